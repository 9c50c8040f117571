"""Write a refresh run's evidence to bench/results: dataset counts, training speed, and
base vs fine-tuned scores (torch fp32 and the quantized bundle), with the commands.

    python bench/training_refresh.py RUN_FOLDER [--out bench/results] [--note TEXT]
        [--evals $TENON_HOME/evals]

A run that has not finished (no ``report.json`` yet) is written from what it has: the
dataset card, the training history and the evaluation results in the cache (``--evals``),
matched to the run's models by path (newest result per model and suite).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import provenance

COLUMNS = ("HumanEval pass@1", "held-out edit sim.", "exact", "parses", "doctests", "tokens")


def scores(results: dict) -> list[str]:
    he = results.get("humaneval", {}).get("summary")
    ho = results.get("heldout", {}).get("summary")
    return [f"{he['passed']}/{he['n']} ({he['pass_at_1']:.1f} %)" if he else "—",
            f"{ho['edit_similarity']:.2f}" if ho else "—",
            f"{ho['exact_match']:.1f} %" if ho else "—",
            f"{ho['parse_rate']:.1f} %" if ho else "—",
            f"{ho['doctest_passed']}/{ho['doctest_cases']}" if ho else "—",
            f"{(ho or he or {}).get('new_tokens_mean', 0):.1f}"]


def training_of(history: list[dict]) -> dict:
    """Tokens and speed from the training history, as the refresh computes them."""
    steps = [h for h in history if "tokens" in h]
    seconds = sum(h["seconds"] for h in steps)
    tokens = sum(h["tokens"] for h in steps)
    return {"tokens": tokens, "seconds": round(seconds, 1),
            "tokens_per_second": round(tokens / max(seconds, 1e-9), 2)}


def cached_evaluations(run: Path, evals: Path, base: Path) -> dict[str, dict]:
    """The newest cached result per model and suite for the models of ``run``."""
    merged, candidate = (run / "train" / "merged").resolve(), (run / "bundle").resolve()

    def label(result: dict) -> str | None:
        path = Path(result["path"]).resolve()
        if result["kind"] == "torch":
            return {base.resolve(): "torch base (fp32)",
                    merged: "torch fine-tuned (fp32)"}.get(path)
        if path == candidate:
            return "candidate bundle (int8)"
        return f"current bundle {path.name} (int8)"

    found: dict[str, dict] = {}
    for file in sorted(evals.glob("*.json")):
        result = json.loads(file.read_text())
        name = label(result)
        partial = result["suite"] == "humaneval" and result["summary"].get("n") != 164
        if name is None or partial:  # another model, or a --limit run
            continue
        suites = found.setdefault(name, {})
        old = suites.get(result["suite"])
        if old is None or result["created"] > old["created"]:
            suites[result["suite"]] = {k: v for k, v in result.items() if k != "rows"}
    return found


def evidence(run: Path, evals: Path | None = None) -> dict:
    done = (run / "report.json").is_file()
    report = json.loads((run / "report.json").read_text()) if done else {}
    card = json.loads((run / "data" / "card.json").read_text())
    history = json.loads((run / "train" / "history.json").read_text())
    config = json.loads((run / "train" / "train_config.json").read_text())
    commit = provenance.commit()
    if not done and evals is None:
        raise SystemExit(f"{run} has not finished (no report.json): pass --evals with the "
                         "evaluation cache ($TENON_HOME/evals) to write what it has")
    if not done:
        report = {"command": f"tenon-train refresh --run {run} (not finished)",
                  "training": training_of(history),
                  "evaluations": cached_evaluations(run, evals, Path(config["base"]))}
    return {"run": str(run), "commit": commit, "command": report["command"], "finished": done,
            "dataset": {k: card[k] for k in ("counts", "examples_available", "examples_written",
                                             "heldout_cases", "heldout_doctest_cases",
                                             "groups_per_split", "licences_of_kept_files")},
            "training": {**report["training"], "config": config,
                         "validation_loss": [(h["step"], h["validation_loss"]) for h in history
                                             if h.get("validation_loss") is not None]},
            "evaluations": report["evaluations"], "gate": report.get("gate"),
            "published": report.get("published"), "stages_s": report.get("stages")}


def markdown(data: dict, note: str) -> str:
    t = data["training"]
    lines = [f"# Training refresh: evidence ({dt.date.today().isoformat()})", "",
             f"Command (commit {data['commit']}): `{data['command']}`", "", note, "",
             "## Dataset", "", f"Examples written: {data['dataset']['examples_written']}  ",
             f"Held-out docstring → body cases: {data['dataset']['heldout_cases']} "
             f"({data['dataset']['heldout_doctest_cases']} with doctests)", "",
             "| step | count |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in data["dataset"]["counts"].items()]
    lines += ["", "## Training", "",
              f"{t['tokens']} tokens in {t['seconds']} s: **{t['tokens_per_second']} tokens/s** "
              f"({t['config']['method']}, {t['config']['steps']} steps × "
              f"{t['config']['batch_size']}, precision {t['config']['precision']}, "
              f"threads {t['config']['threads']})  ",
              f"Validation loss by step: {t['validation_loss']}", "",
              "## Base vs fine-tuned", "", "| model | " + " | ".join(COLUMNS) + " |",
              "|---|" + "---|" * len(COLUMNS)]
    for label, results in data["evaluations"].items():
        lines.append(f"| {label} | " + " | ".join(scores(results)) + " |")
    if data.get("gate"):
        lines += ["", f"Gate: publish **{'yes' if data['gate']['publish'] else 'no'}**"]
        lines += [f"- {r}" for r in data["gate"]["reasons"]]
    if data.get("stages_s"):
        lines += ["", "Stage times (s): " + json.dumps(data["stages_s"])]
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run", type=Path)
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--note", default="")
    parser.add_argument("--evals", type=Path, help="evaluation cache, for an unfinished run")
    args = parser.parse_args()
    data = evidence(args.run, args.evals)
    stem = f"{dt.date.today().isoformat()}-training-refresh"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(data, indent=1) + "\n")
    (args.out / f"{stem}.md").write_text(markdown(data, args.note))
    print(args.out / f"{stem}.md")


if __name__ == "__main__":
    main()
