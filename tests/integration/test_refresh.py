"""`tenon-train refresh` end to end on a tiny model and a tiny repository."""

import json
import shutil

from tenon.bundle import load_bundle
from tenon.paths import TenonHome
from tenon_train import publish
from tenon_train.cli import main as cli
from tests.support.tiny_corpus import write_corpus


def test_refresh_builds_trains_evaluates_exports_gates_and_publishes(
        tiny_qwen, tiny_base, tmp_path, monkeypatch):
    home = TenonHome(tmp_path / "home")
    monkeypatch.setenv("TENON_HOME", str(home.root))
    home.models.mkdir(parents=True)
    shutil.copytree(tiny_qwen.path, home.models / "tiny-v0")
    publish.switch_current(home, home.models / "tiny-v0")
    corpus = write_corpus(tmp_path / "repo", git=True)
    run = tmp_path / "run"
    args = ["refresh", "--source", str(corpus), "--base", str(tiny_base), "--run", str(run),
            "--steps", "4", "--batch-size", "2", "--humaneval-limit", "2", "--threads", "1",
            "--eval-batch", "2", "--no-progress"]
    assert cli(args) == 0
    summary = json.loads((run / "report.json").read_text())
    assert set(summary["evaluations"]) == {
        "torch base (fp32)", "torch fine-tuned (fp32)", "current bundle tiny-v0 (int8)",
        "candidate bundle (int8)"}
    assert (run / "loss.png").stat().st_size > 1000
    report = (run / "report.md").read_text()
    assert "| candidate bundle (int8) |" in report and "## Gate" in report
    gate = summary["gate"]
    live = publish.current(home)
    if gate["publish"]:
        assert live.name == summary["published"]
        manifest = load_bundle(live).manifest
        assert manifest.evaluation["gate"]["publish"] is True
        assert manifest.provenance["training_run"]["config"]["steps"] == 4
    else:
        assert live.name == "tiny-v0" and summary["published"] is None
    # the same run folder again: every stage finds its result, nothing is redone
    assert cli(args) == 0
    again = json.loads((run / "report.json").read_text())
    assert all(r.get("cached") for e in again["evaluations"].values() for r in e.values())
    assert again["published"] == summary["published"]
    assert publish.current(home) == live
