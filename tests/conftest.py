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
