"""Shared fixtures: tiny real model bundles, built once per test session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class TinyBundle:
    path: Path
    model: object  # the torch model it was exported from
    tokenizer: object


@pytest.fixture(scope="session")
def tiny_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tenon_home")


@pytest.fixture(scope="session")
def tiny_qwen(tmp_path_factory) -> TinyBundle:
    """A tiny Qwen2 trained to recite a small corpus, FIM tokens, int8 + fp32 graphs."""
    from tests.support.tiny import build_tiny_bundle

    path, model, tokenizer = build_tiny_bundle(
        "qwen2", tmp_path_factory.mktemp("tiny_qwen"), trained=True, quantize="int8"
    )
    return TinyBundle(path, model, tokenizer)


@pytest.fixture(scope="session")
def tiny_base(tiny_qwen, tmp_path_factory) -> Path:
    """The tiny Qwen2 of ``tiny_qwen`` as a checkpoint folder (config, weights, tokenizer)."""
    folder = tmp_path_factory.mktemp("tiny_base")
    tiny_qwen.model.save_pretrained(folder)
    tiny_qwen.tokenizer.save(str(folder / "tokenizer.json"))
    return folder


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """A dataset built from the tiny corpus (a git repository of three packages)."""
    from tenon_train.dataset.build import DatasetConfig, main
    from tests.support.tiny_corpus import write_corpus

    corpus = write_corpus(tmp_path_factory.mktemp("corpus") / "repo", git=True)
    out = tmp_path_factory.mktemp("dataset")
    main(DatasetConfig(output=out, sources=(str(corpus),), progress=False,
                       validation_fraction=0.2, test_fraction=0.2))
    return out
