"""The evaluation gate: beat the current bundle on the held-out split, keep HumanEval."""

import pytest

from tenon_train.gate import GateConfig, decide


def results(heldout, humaneval):
    return {"heldout": {"summary": {"edit_similarity": heldout, "exact_match": 0.0}},
            "humaneval": {"summary": {"pass_at_1": humaneval}}}


@pytest.mark.parametrize(("new_heldout", "new_humaneval", "publish"), [
    (51.0, 44.0, True),  # better held-out, same HumanEval
    (51.0, 43.0, True),  # loses exactly one point: allowed
    (51.0, 42.9, False),  # loses more than one point
    (50.0, 46.0, False),  # held-out only equal: not better
    (49.0, 50.0, False),  # worse held-out
])
def test_gate(new_heldout, new_humaneval, publish):
    decision = decide(results(50.0, 44.0), results(new_heldout, new_humaneval), GateConfig())
    assert decision.publish is publish
    assert len(decision.reasons) == 2


def test_gate_with_a_margin_and_another_metric():
    cfg = GateConfig(heldout_metric="exact_match", min_heldout_gain=2.0)
    now = {"heldout": {"summary": {"exact_match": 10.0}}, "humaneval": {"summary": {
        "pass_at_1": 40.0}}}
    assert not decide(now, {**now, "heldout": {"summary": {"exact_match": 11.0}}}, cfg).publish
    assert decide(now, {**now, "heldout": {"summary": {"exact_match": 12.5}}}, cfg).publish
