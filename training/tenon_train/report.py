"""The run report: a markdown table of every evaluation, the gate, and a loss curve PNG."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HEADERS = ("model", "HumanEval pass@1", "held-out edit sim.", "exact", "parses",
           "doctests passed", "mean new tokens")


def loss_curve(history: list[dict], out: Path) -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train = [(h["step"], h["loss"]) for h in history if "loss" in h]
    validation = [(h["step"], h["validation_loss"]) for h in history
                  if h.get("validation_loss") is not None]
    if not train:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(*zip(*train, strict=True), label="train (target tokens)", linewidth=1)
    if validation:
        ax.plot(*zip(*validation, strict=True), "o-", label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy per target token")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def row(label: str, results: dict[str, dict]) -> str:
    he = results.get("humaneval", {}).get("summary")
    ho = results.get("heldout", {}).get("summary")
    cells = [label,
             f"{he['passed']}/{he['n']} ({he['pass_at_1']:.1f} %)" if he else "—",
             f"{ho['edit_similarity']:.1f}" if ho else "—",
             f"{ho['exact_match']:.1f} %" if ho else "—",
             f"{ho['parse_rate']:.1f} %" if ho else "—",
             f"{ho['doctest_passed']}/{ho['doctest_cases']}" if ho else "—",
             f"{(ho or he or {}).get('new_tokens_mean', 0):.1f}"]
    return "| " + " | ".join(cells) + " |"


def markdown(summary: dict[str, Any]) -> str:
    lines = [f"# Refresh run {summary['run']}", "", f"Command: `{summary['command']}`", ""]
    if summary.get("dataset"):
        d = summary["dataset"]
        lines += ["## Dataset", "", f"Examples written: {d['examples_written']}  ",
                  f"Held-out cases: {d['heldout_cases']} ({d['heldout_doctest_cases']} with "
                  "doctests); full counts in `data/card.md`.", ""]
    if summary.get("training"):
        t = summary["training"]
        lines += ["## Training", "", "| | |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in t.items()]
        lines += ["", "![loss curve](loss.png)", ""]
    lines += ["## Evaluation", "", "| " + " | ".join(HEADERS) + " |",
              "|" + "---|" * len(HEADERS)]
    lines += [row(label, results) for label, results in summary["evaluations"].items()]
    if summary.get("gate"):
        g = summary["gate"]
        lines += ["", "## Gate", "", f"Publish: **{'yes' if g['publish'] else 'no'}**", ""]
        lines += [f"- {reason}" for reason in g["reasons"]]
    if summary.get("published"):
        lines += ["", f"Published as `{summary['published']}`."]
    lines += ["", "## Stage times (s)", "", "| stage | seconds |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in summary.get("stages", {}).items()]
    return "\n".join(lines) + "\n"


def write(run: Path, summary: dict[str, Any], history: list[dict]) -> Path:
    loss_curve(history, run / "loss.png")
    (run / "report.json").write_text(json.dumps(summary, indent=1, default=str) + "\n",
                                     encoding="utf-8")
    out = run / "report.md"
    out.write_text(markdown(summary), encoding="utf-8")
    return out
