import pytest

from tenon.context.classify import classify
from tenon.context.snapshot import Snapshot
from tenon.postprocess import drop_repetition, finish, strip_special
from tenon.stop_rules import policy_for


def run(marked: str, generated: str, python: bool = True):
    offset = marked.index("|")
    context = classify(Snapshot("u", 1, "python", marked.replace("|", "", 1), offset))
    return finish(generated, context, policy_for(context), python)


@pytest.mark.parametrize(
    ("marked", "generated", "expected"),
    [
        ('def fib(n):\n    """Fib."""\n    |\n\ndef g():\n    pass\n',
         "if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n\n\ndef main():",
         "if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)"),
        ("x = foo(a, |)\n", "b)\nmore", "b"),
        ("if x == |", "1:\n", "1:"),  # a finished header parses with its body to come
        ("def f(x):\n    return x.|", "strip()<|endoftext|>", "strip()"),
        # text that repeats the suffix is trimmed
        ("def f(x):\n    # square\n    |\n    return y\n", "y = x * x\n    return y",
         "y = x * x"),
        # a syntax error elsewhere in the file does not block a good completion
        ("x = 1\n|\nbroken = (\n", "y = 2", "y = 2"),
        # the longest prefix that parses is kept
        ("def f(x):\n    |", "y = x + 1\n    return y +", "y = x + 1"),
    ],
)
def test_finish(marked, generated, expected):
    assert run(marked, generated).text == expected


def test_nothing_parses_gives_nothing():
    done = run("def f(x):\n    |", "return x +\n")
    assert (done.text, done.reason) == ("", "does not parse in place")


def test_blank_completion_is_dropped():
    assert run("x = |", "   ").text == ""


def test_non_python_skips_parse_check():
    assert run("x = |", "((", python=False).text == "(("


def test_strip_special_and_repetition():
    assert strip_special("a<|fim_middle|>b<fim_suffix>c\ufffd") == "abc"
    assert drop_repetition("a = 1\n    a = 1\n    a = 1\nb") == "a = 1"
    assert drop_repetition("x()\ny()\nx()\ny()\nz") == "x()\ny()"


def test_crlf_document_keeps_working():
    assert run("def f(x):\r\n    # double it\r\n    |", "return 2 * x\n").text == "return 2 * x"
