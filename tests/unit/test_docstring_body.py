"""Stub detection, the body edit, and candidate ranking by doctest examples (real sandbox)."""

import pytest

from tenon.context.stubs import find_stubs, stub_at
from tenon.docstring_body import Candidate, plan_body, rank

DOC = '''import math


class Circle:
    def area(self, r: float) -> float:
        """Area of a circle of radius r.

        >>> round(Circle().area(1.0), 2)
        3.14
        >>> Circle().area(0)
        0.0
        """
        raise NotImplementedError("later")


def double(x):
    """Double x."""
    ...


def only_doc():
    """Nothing yet."""


def done(x):
    """Done already."""
    return x
'''


def test_stubs_found_with_their_kind_of_stub():
    found = {s.name: DOC[s.replace_start:s.replace_end] for s in find_stubs(DOC)}
    assert found == {"area": '\n        raise NotImplementedError("later")',
                     "double": "\n    ...", "only_doc": ""}


@pytest.mark.parametrize(("needle", "name"), [("def area", "area"), ("Double x", "double"),
                                              ("Nothing yet", "only_doc")])
def test_stub_at_cursor(needle, name):
    assert stub_at(DOC, DOC.index(needle) + 2).name == name


def test_no_stub_on_a_finished_function_or_outside():
    assert stub_at(DOC, DOC.index("Done already")) is None
    assert stub_at(DOC, DOC.index("import math")) is None


def test_half_written_file_still_finds_the_stub():
    broken = DOC + "\ndef broken(:\n"
    assert stub_at(broken, broken.index("Double x")).name == "double"


def test_body_replaces_the_stub_keeping_indentation():
    plan = plan_body(DOC, DOC.index("def area"))
    assert plan.stub.indent == " " * 8
    assert plan.stub.examples[0].want == "3.14\n"
    new = plan.with_body("return math.pi * r * r")
    assert '        """\n        return math.pi * r * r\n\n\ndef double' in new
    snapshot = plan.snapshot("u", 1)
    assert snapshot.prefix.endswith('"""\n        ')
    assert snapshot.suffix.startswith("\n\n\ndef double")


def test_ranking_prefers_passing_examples_over_likelihood():
    plan = plan_body(DOC, DOC.index("def area"))
    wrong = Candidate("return 2 * math.pi * r", mean_logprob=-0.1, label="greedy")
    right = Candidate("return math.pi * r ** 2", mean_logprob=-0.9, label="sample 1")
    crash = Candidate("return undefined_name", mean_logprob=-0.01, label="sample 2")
    result = rank(plan, [wrong, right, crash])
    assert result.chosen.body == right.body
    assert [c.doctests.passed for c in result.candidates] == [1, 2, 0]
    assert result.summary() == "2/2 doctest examples pass (best of 3 candidates: sample 1)"


def test_ties_are_broken_by_likelihood():
    plan = plan_body(DOC, DOC.index("def area"))
    likely = Candidate("return math.pi * r * r", -0.2, "greedy")
    unlikely = Candidate("return r * r * math.pi", -0.7, "sample 1")
    assert rank(plan, [unlikely, likely]).chosen.label == "greedy"


def test_without_examples_the_greedy_body_is_taken_unchecked():
    plan = plan_body(DOC, DOC.index("Double x"))
    result = rank(plan, [Candidate("return 2 * x", -0.1, "greedy")])
    assert result.chosen.doctests is None
    assert "no examples" in result.summary()
