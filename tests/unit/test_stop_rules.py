"""Stop rules, table-driven: (document with cursor, generated text, expected completion)."""

import pytest

from tenon.context.classify import classify
from tenon.context.snapshot import Snapshot
from tenon.stop_rules import cut_point, policy_for


def cut(marked: str, generated: str) -> str:
    offset = marked.index("|")
    context = classify(Snapshot("u", 1, "python", marked.replace("|", "", 1), offset))
    point = cut_point(generated, policy_for(context))
    return generated if point is None else generated[:point]


@pytest.mark.parametrize(
    ("marked", "generated", "expected"),
    [
        # mid-line: the rest of the line only
        ("x = compute(|", "a, b)\nprint(x)\n", "a, b)"),
        # a closer already in the document ends the completion
        ("x = foo(a, |)", "b)\nmore()", "b"),
        ("items = [1, |]", "2, 3]]", "2, 3"),
        # body: ends where the function ends, never in the next def
        ('def fib(n):\n    """Fib."""\n    |',
         "if n < 2:\n        return n\n\n    return fib(n-1)\n\ndef main():\n    pass",
         "if n < 2:\n        return n\n\n    return fib(n-1)\n"),
        # comment intent: ends at the end of the step (blank line)
        ("# read the port\n|", 'port = int(open("p").read())\n\n# next\nx = 1',
         'port = int(open("p").read())\n'),
        # comment intent in a function: a new comment starts the next step
        ("def f(x):\n    # square it\n    |", "y = x * x\n    # then add\n    return y + 1",
         "y = x * x"),
        # a dedent ends a block
        ("def f(x):\n    # square it\n    |", "y = x * x\n    return y\nclass A: pass",
         "y = x * x\n    return y"),
        # top level: a new statement after an indented block ends it, `else` does not
        ("# check\n|", "if x:\n    a = 1\nelse:\n    a = 2\nprint(a)\n",
         "if x:\n    a = 1\nelse:\n    a = 2"),
        # a comment intent at module level ending in a def, then more top-level code
        ("# compute fib\n|", "def fib(n):\n    return n\nprint(fib(3))",
         "def fib(n):\n    return n"),
        # tabs
        ("def f():\n\t# loop\n\t|", "for i in x:\n\t\tprint(i)\nfoo()",
         "for i in x:\n\t\tprint(i)"),
    ],
)
def test_cuts(marked, generated, expected):
    assert cut(marked, generated) == expected


def test_no_cut_while_the_block_may_go_on():
    text = 'def f():\n    """Doc."""\n    '
    context = classify(Snapshot("u", 1, "python", text, len(text)))
    assert cut_point("x = 1\n    y = ", policy_for(context)) is None


def test_line_limit():
    generated = "\n".join(f"    a{i} = {i}" for i in range(200))[4:]
    result = cut('def f():\n    """Doc."""\n    |', generated)
    assert result.count("\n") + 1 == 80


def test_a_blank_line_before_the_first_def_is_not_the_end():
    assert cut("# 计算斐波那契数列的第n项\n|", "\ndef fib(n):\n    return n\n\nx = 1") == (
        "\ndef fib(n):\n    return n\n")
