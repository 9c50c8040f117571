"""Evaluation judges: HumanEval programs run in the sandbox, held-out metrics, caching."""

from pathlib import Path

from tenon_train.evaluation import heldout, humaneval
from tenon_train.evaluation.main import EvalConfig, ModelRef, evaluate
from tenon_train.evaluation.runner import Outcome


def outcome(case_id, text):
    return Outcome(case_id, text, "body", "ok", "eos", 10, 5, 0.1)


def test_humaneval_judge_runs_programs_in_the_sandbox():
    problems = humaneval.load_problems(3)
    indent = humaneval.cursor_indent(problems[0].prompt)
    right = [p.canonical_solution.removeprefix(indent) for p in problems]
    rows = humaneval.judge(problems, [outcome(p.task_id, r) for p, r in zip(problems, right,
                                                                             strict=True)])
    assert all(r["passed"] for r in rows)
    wrong = humaneval.judge(problems[:1], [outcome(problems[0].task_id, "return True")])
    assert not wrong[0]["passed"]
    hostile = "import os\n    os.system('touch /tmp/tenon-pwned')\n    return True"
    assert not humaneval.passes(problems[0], hostile)
    assert not Path("/tmp/tenon-pwned").exists()


def test_heldout_judge_metrics(tiny_dataset):
    cases = heldout.read_cases(tiny_dataset / "heldout.jsonl")
    rows = heldout.judge(cases, [outcome(c.case_id, c.reference) for c in cases])
    assert all(r["exact"] and r["edit_similarity"] == 1.0 and r["parses"] for r in rows)
    assert all(r["passed"] for r in rows if r["doctest"])
    bad = heldout.judge(cases[:1], [outcome(cases[0].case_id, "return (")])
    assert not bad[0]["parses"] and not bad[0]["exact"] and bad[0]["edit_similarity"] < 1


def test_evaluate_a_bundle_and_a_checkpoint_through_the_server_pipeline(
        tiny_qwen, tiny_base, tiny_dataset, tmp_path):
    cfg = EvalConfig(heldout_file=tiny_dataset / "heldout.jsonl", humaneval_limit=2, batch=2,
                     cache_dir=tmp_path, progress=False)
    bundle = evaluate(ModelRef("onnx", tiny_qwen.path), cfg)
    assert bundle["humaneval"]["summary"]["n"] == 2
    assert bundle["heldout"]["summary"]["n"] == len(heldout.read_cases(cfg.heldout_file))
    assert bundle["heldout"]["graph"] == "int8"
    torch_results = evaluate(ModelRef("torch", tiny_base), cfg)
    assert torch_results["humaneval"]["rows"][0]["case_id"] == "HumanEval/0"
    again = evaluate(ModelRef("torch", tiny_base), cfg)
    assert again["heldout"].get("cached") and again["heldout"]["summary"] == torch_results[
        "heldout"]["summary"]
