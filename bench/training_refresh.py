"""Write a refresh run's evidence to bench/results: dataset counts, training speed, and
base vs fine-tuned scores (torch fp32 and the quantized bundle), with the commands.

    python bench/training_refresh.py RUN_FOLDER [--out bench/results] [--note TEXT]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
from pathlib import Path

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


def evidence(run: Path) -> dict:
    report = json.loads((run / "report.json").read_text())
    card = json.loads((run / "data" / "card.json").read_text())
    history = json.loads((run / "train" / "history.json").read_text())
    config = json.loads((run / "train" / "train_config.json").read_text())
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip()
    return {"run": str(run), "commit": commit, "command": report["command"],
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
    lines += ["", "Stage times (s): " + json.dumps(data["stages_s"]), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run", type=Path)
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    data = evidence(args.run)
    stem = f"{dt.date.today().isoformat()}-training-refresh"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(data, indent=1) + "\n")
    (args.out / f"{stem}.md").write_text(markdown(data, args.note))
    print(args.out / f"{stem}.md")


if __name__ == "__main__":
    main()
