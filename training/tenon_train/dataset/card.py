"""The dataset card: where the data came from, what was left out and why, what is left."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from tenon_train.dataset import sources

if TYPE_CHECKING:
    from tenon_train.dataset.build import DatasetConfig, Loaded
    from tenon_train.dataset.examples import Example
    from tenon_train.evaluation.heldout import HeldOutCase


def card_data(cfg: DatasetConfig, counts: Counter, split_of: dict[str, str],
              parts: dict[str, list[Example]], available: dict[str, Counter],
              cases: list[HeldOutCase], files: list[Loaded], ngram_sets: dict[str, int]
              ) -> dict[str, Any]:
    licences = Counter(item.source.licence for item in files)
    groups = Counter(split_of.values())
    return {
        "sources": list(cfg.sources) or ["default: Python standard library + installed "
                                         "packages with permissive licences"],
        "seed": cfg.seed,
        "counts": dict(sorted(counts.items())),
        "licences_of_kept_files": dict(licences.most_common()),
        "groups_per_split": dict(groups),
        "test_groups": sorted(g for g, s in split_of.items() if s == "test"),
        "validation_groups": sorted(g for g, s in split_of.items() if s == "validation"),
        "examples_available": {s: dict(c) for s, c in available.items()},
        "examples_written": {s: dict(Counter(e.kind for e in items))
                             for s, items in parts.items()},
        "heldout_cases": len(cases),
        "heldout_doctest_cases": sum(c.doctest for c in cases),
        "decontamination_ngrams": ngram_sets,
        "excluded_packages": [] if cfg.sources else [
            {"name": n, "why": w} for n, w in sources.excluded_packages()],
    }


def markdown(data: dict[str, Any]) -> str:
    lines = ["# Dataset card", "", f"Sources: {', '.join(data['sources'])}  ",
             f"Seed: {data['seed']}; split by group (package or repository), never by function.",
             "", "## Counts", "", "| step | count |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in data["counts"].items()]
    lines += ["", "## Examples per split and kind", "",
              "| split | kind | available | written |", "|---|---|---|---|"]
    for split, kinds in data["examples_available"].items():
        for kind, n in sorted(kinds.items()):
            written = data["examples_written"].get(split, {}).get(kind, 0)
            lines.append(f"| {split} | {kind} | {n} | {written} |")
    lines += ["", f"Held-out docstring → body cases: {data['heldout_cases']} "
              f"({data['heldout_doctest_cases']} with doctests the original passes)",
              "", f"Groups per split: {data['groups_per_split']}  ",
              f"Test groups: {', '.join(data['test_groups'])}  ",
              f"Validation groups: {', '.join(data['validation_groups'])}", "",
              "## Licences of the files used", "", "| licence | files |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in data["licences_of_kept_files"].items()]
    if data["excluded_packages"]:
        lines += ["", "## Installed packages left out", "", "| package | why |", "|---|---|"]
        lines += [f"| {p['name']} | {p['why']} |" for p in data["excluded_packages"]]
    lines += ["", f"Decontamination n-gram sets (13 code tokens): "
              f"{data['decontamination_ngrams']}", ""]
    return "\n".join(lines)


def write(cfg: DatasetConfig, *args) -> dict[str, Any]:
    data = card_data(cfg, *args)
    (cfg.output / "card.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    (cfg.output / "card.md").write_text(markdown(data), encoding="utf-8")
    return data
