"""The dataset stage: sources → files → examples → filters → dedup → split → decontamination.

``main(cfg)`` writes ``train.jsonl``, ``validation.jsonl``, ``test.jsonl``, ``heldout.jsonl``
(the docstring → body evaluation cases of the test groups) and the dataset card
(``card.md``, ``card.json``) into ``cfg.output``.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from tenon_train.dataset import card, sources
from tenon_train.dataset.decontaminate import Contamination, file_texts, humaneval_texts
from tenon_train.dataset.dedup import MinHashConfig, NearDuplicates, code_tokens, drop_exact
from tenon_train.dataset.dedup import normalized_hash as norm_hash
from tenon_train.dataset.examples import Example, write_jsonl
from tenon_train.dataset.extract import BODY, Span, extract
from tenon_train.dataset.filters import FilterConfig, example_reason, file_reason
from tenon_train.dataset.heldout_cases import heldout_cases
from tenon_train.dataset.split import assign
from tenon_train.evaluation.heldout import write_cases
from tenon_train.progress import Stages

log = logging.getLogger(__name__)
DEFAULT_MIX = (("body", 0.4), ("comment", 0.25), ("fim-line", 0.2), ("fim-span", 0.15))


@dataclass(frozen=True)
class DatasetConfig:
    output: Path
    sources: tuple[str, ...] = ()  # folders or git work trees; empty: the default corpus
    seed: int = 0
    max_files_per_group: int = 40
    fim_per_file: int = 2
    validation_fraction: float = 0.05
    test_fraction: float = 0.10
    max_train: int = 4000
    max_validation: int = 200
    heldout_cases: int = 120
    mix: tuple[tuple[str, float], ...] = DEFAULT_MIX
    prefix_chars: int = 6000
    suffix_chars: int = 2000
    near_duplicates: MinHashConfig = field(default_factory=MinHashConfig)
    filters: FilterConfig = field(default_factory=FilterConfig)
    decontaminate_files: tuple[Path, ...] = ()  # other evaluation sets to keep out
    humaneval: bool = True  # decontaminate against HumanEval
    progress: bool = True


@dataclass
class Loaded:
    source: sources.SourceFile
    text: str


def stable_hash(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()


def discover(cfg: DatasetConfig) -> list[sources.SourceFile]:
    if not cfg.sources:
        return sources.default_corpus()
    found = []
    for source in cfg.sources:
        found.extend(sources.from_folder(Path(source)))
    if not found:
        raise sources.CorpusError(f"no Python files in {', '.join(cfg.sources)}")
    return found


def load_files(found: list[sources.SourceFile], cfg: DatasetConfig,
               counts: Counter) -> list[Loaded]:
    """Read and filter files, at most ``max_files_per_group`` per group (seeded choice)."""
    by_group: dict[str, list[sources.SourceFile]] = defaultdict(list)
    for source in found:
        by_group[source.group].append(source)
    kept: list[Loaded] = []
    for group in tqdm(sorted(by_group), desc="read files", unit="group", disable=not cfg.progress):
        files = sorted(by_group[group], key=lambda s: stable_hash(cfg.seed, s.path))
        taken = 0
        for source in files:
            if taken >= cfg.max_files_per_group:
                counts["file: over the per-group cap"] += 1
                continue
            text = source.read()
            reason = file_reason(source, text, cfg.filters)
            if reason:
                counts[f"file: {reason}"] += 1
                continue
            kept.append(Loaded(source, text or ""))
            taken += 1
    return kept


def drop_near_duplicate_files(files: list[Loaded], cfg: DatasetConfig,
                              counts: Counter) -> list[Loaded]:
    near = NearDuplicates(cfg.near_duplicates)
    keep = []
    for item in tqdm(files, desc="near-duplicate files", unit="file", disable=not cfg.progress):
        if near.seen_similar(item.text):
            counts["file: near duplicate"] += 1
        else:
            keep.append(item)
    return keep


def examples_of(files: list[Loaded], cfg: DatasetConfig, counts: Counter) -> tuple[
        list[Example], dict[str, list[tuple[Loaded, Span]]]]:
    out: list[Example] = []
    bodies: dict[str, list[tuple[Loaded, Span]]] = defaultdict(list)
    for item in tqdm(files, desc="extract examples", unit="file", disable=not cfg.progress):
        spans = extract(item.text, int(stable_hash(cfg.seed, item.source.path)[:8], 16),
                        cfg.fim_per_file)
        for span in spans:
            middle = item.text[span.start: span.end]
            counts[f"extracted: {span.kind}"] += 1
            reason = example_reason(span, middle, cfg.filters)
            if reason:
                counts[f"example: {reason}"] += 1
                continue
            out.append(Example.of(item.source, item.text, span, cfg.prefix_chars,
                                  cfg.suffix_chars))
            if span.kind == BODY:
                bodies[item.source.group].append((item, span))
    return out, bodies


def deduplicate(examples: list[Example], cfg: DatasetConfig, counts: Counter) -> list[Example]:
    keep = drop_exact([f"{e.kind}:{norm_hash(e.middle)}" for e in examples])
    counts["example: exact duplicate"] += keep.count(False)
    unique = [e for e, k in zip(examples, keep, strict=True) if k]
    near = NearDuplicates(cfg.near_duplicates)
    out = []
    for example in unique:
        if len(code_tokens(example.middle)) >= 30 and near.seen_similar(example.middle):
            counts["example: near duplicate"] += 1
        else:
            out.append(example)
    return out


def contamination(cfg: DatasetConfig, heldout_refs: list[str]) -> tuple[Contamination,
                                                                         Contamination]:
    """(against evaluation benchmarks: every split; against the held-out split: train/val)."""
    benchmarks = Contamination()
    if cfg.humaneval:
        benchmarks.add("HumanEval", humaneval_texts())
    if cfg.decontaminate_files:
        benchmarks.add("evaluation files", file_texts(cfg.decontaminate_files))
    own = Contamination()
    own.add("held-out split", heldout_refs)
    return benchmarks, own


def decontaminate(examples: list[Example], checks: list[Contamination], counts: Counter,
                  label: str) -> list[Example]:
    out = []
    for example in examples:
        hit = next((h for c in checks if (h := c.hit(example.intent + "\n" + example.middle))),
                   None)
        if hit:
            counts[f"decontaminated ({label}): {hit}"] += 1
        else:
            out.append(example)
    return out


def sample(examples: list[Example], limit: int, mix: tuple[tuple[str, float], ...],
           seed: int) -> list[Example]:
    """At most ``limit`` examples in the kind proportions of ``mix``, shuffled (seeded)."""
    rng = random.Random(seed)
    by_kind: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_kind[example.kind].append(example)
    chosen: list[Example] = []
    for kind, share in mix:
        pool = by_kind.get(kind, [])
        rng.shuffle(pool)
        chosen.extend(pool[: round(limit * share)])
    rng.shuffle(chosen)
    return chosen


def main(cfg: DatasetConfig) -> dict:
    """Build the dataset into ``cfg.output``; return the card's counts."""
    cfg.output.mkdir(parents=True, exist_ok=True)
    counts: Counter = Counter()
    stages = Stages("dataset", 6, cfg.progress)
    with stages.step("find sources"):
        found = discover(cfg)
        counts["files found"] = len(found)
    with stages.step("read and filter files"):
        files = drop_near_duplicate_files(load_files(found, cfg, counts), cfg, counts)
        counts["files kept"] = len(files)
        if not files:
            reasons = {k: v for k, v in counts.items() if k.startswith("file:")}
            raise sources.CorpusError(f"all {len(found)} files were left out: {reasons}")
    with stages.step("extract and filter examples"):
        examples, bodies = examples_of(files, cfg, counts)
        examples = deduplicate(examples, cfg, counts)
    with stages.step("split by group"):
        split_of = assign(Counter(e.group for e in examples), cfg.seed, cfg.validation_fraction,
                          cfg.test_fraction)
        parts = {s: [e for e in examples if split_of[e.group] == s]
                 for s in ("train", "validation", "test")}
    with stages.step("held-out cases and decontamination"):
        benchmarks, own = contamination(cfg, [])
        cases = heldout_cases(bodies, {g for g, s in split_of.items() if s == "test"},
                              benchmarks, cfg, counts)
        benchmarks, own = contamination(cfg, [c.reference for c in cases])
        parts["test"] = decontaminate(parts["test"], [benchmarks], counts, "test")
        for split in ("train", "validation"):
            parts[split] = decontaminate(parts[split], [benchmarks, own], counts, split)
    with stages.step("write"):
        available = {s: Counter(e.kind for e in parts[s]) for s in parts}
        parts["train"] = sample(parts["train"], cfg.max_train, cfg.mix, cfg.seed)
        parts["validation"] = sample(parts["validation"], cfg.max_validation, cfg.mix, cfg.seed)
        parts["test"] = sample(parts["test"], cfg.max_validation, cfg.mix, cfg.seed)
        for split, items in parts.items():
            write_jsonl(cfg.output / f"{split}.jsonl", items)
        write_cases(cfg.output / "heldout.jsonl", cases)
        data = card.write(cfg, counts, split_of, parts, available, cases, files,
                          benchmarks.sizes())
    stages.close()
    return data
