"""Cursor classification, table-driven; ``|`` marks the cursor."""

import pytest

from tenon.context.classify import classify
from tenon.context.snapshot import Snapshot


def ctx(marked: str):
    offset = marked.index("|")
    return classify(Snapshot("file:///t.py", 1, "python", marked.replace("|", "", 1), offset))


@pytest.mark.parametrize(
    ("marked", "mode", "indent"),
    [
        ('def fib(n):\n    """Return the n-th Fibonacci number."""\n    |', "body", "    "),
        ('def fib(n):\n    """Return the n-th\n    number.\n    """\n|\n\ndef g():\n    pass\n',
         "body", "    "),
        ("# read the config file and return the port as an int\n|", "comment", ""),
        ("def f(x):\n    # compute the square\n    |", "comment", "    "),
        ("# 计算斐波那契数列的第n项\n|", "comment", ""),
        ("def f(x):\n\t# tabs\n\t|", "comment", "\t"),
        ("x = foo(a, |)", "line", ""),
        ("x = 1  # a comm|", "line", ""),
        ('def f():\n    """Doc string being wri|', "line", "    "),
        ("def f():\n    x = 1\n|", "block", "    "),
        ("if ready:\n|", "block", "    "),
        ('class A:\n    def m(self,\n          y: int) -> int:\n        """Do m."""\n'
         "        |", "body", "        "),
        ("x = 1\r\n# add one\r\n|", "comment", ""),
        ("    |return x", "line", "    "),
        ("s = '''not a docstring\n|", "line", ""),
    ],
)
def test_modes(marked, mode, indent):
    found = ctx(marked)
    assert (found.mode, found.indent) == (mode, indent)


def test_docstring_body_collects_intent_and_signature():
    found = ctx('class A:\n    def area(self, r: float) -> float:\n'
                '        """Area of a circle of radius r."""\n        |')
    assert found.intent == "Area of a circle of radius r."
    assert found.signature.strip() == "def area(self, r: float) -> float:"
    assert found.enclosing_class == "A"


def test_empty_function_body_takes_the_comment_above_as_intent():
    found = ctx("# return the n-th Fibonacci number\n@cache\ndef fib(n):\n    |")
    assert (found.mode, found.indent) == ("body", "    ")
    assert found.intent == "return the n-th Fibonacci number"
    assert found.signature == "def fib(n):"


def test_one_blank_line_after_the_comment_is_allowed():
    assert ctx("def f(path):\n    # read the port\n    \n|").mode == "comment"


def test_comment_intent_joins_comment_lines():
    found = ctx("x = 1\n# first read the file\n# then parse the header\n|")
    assert found.intent == "first read the file\nthen parse the header"


def test_half_written_code_does_not_raise():
    found = ctx('def broken(:\n    """unterminated\n    x = [1, 2,\n|')
    assert found.mode == "line"  # inside the unterminated triple-quoted string


def test_open_brackets_counted_outside_strings():
    assert ctx("x = f(a, '(', [1,|").open_brackets == 2


def test_long_line_and_non_ascii():
    long_line = "x = " + "a + " * 5000
    assert ctx(long_line + "|").mode == "line"
    assert ctx("# données: lire le fichier\n|").intent == "données: lire le fichier"
