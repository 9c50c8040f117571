"""Typing at a fill-in-the-middle cursor reuses the whole prompt's cache (tiny real model)."""

from __future__ import annotations

import pytest

from tenon.completion import complete
from tenon.context.snapshot import Snapshot
from tenon.inference.engine import CancelToken
from tenon.model import load_model
from tenon.settings import Settings

HEAD = ("class Stack:\n    def __init__(self):\n        self.items = []\n\n"
        "    def push(self, item):\n        self.items.")
TAIL = "\n\n    def pop(self):\n        return self.items.pop()\n"


@pytest.fixture(scope="module")
def model(tiny_qwen):
    return load_model(Settings(bundle_path=str(tiny_qwen.path), device="cpu"))


def at(head: str, uri: str = "file:///stack.py") -> Snapshot:
    return Snapshot(uri, 1, "python", head + TAIL, len(head))


def test_typing_at_the_cursor_feeds_only_the_typed_text(model):
    settings = Settings()
    first = complete(at(HEAD), settings, model, CancelToken())
    assert first.result is not None and first.result.prompt_tokens > 20
    anchored = model.anchors.reused
    typed = complete(at(HEAD + "ap"), settings, model, CancelToken())
    assert model.anchors.reused == anchored + 1
    gen = typed.result
    assert gen is not None and gen.finish_reason != "cancelled"
    # the FIM prompt up to its middle marker is cached; only the typed text is new
    assert gen.prompt_tokens - gen.reused_tokens <= 2
    assert gen.reused_tokens >= first.result.prompt_tokens - 1


def test_a_fresh_document_builds_its_own_prompt(model):
    settings = Settings()
    complete(at(HEAD, "file:///one.py"), settings, model, CancelToken())
    anchored = model.anchors.reused
    complete(at(HEAD + "ap", "file:///two.py"), settings, model, CancelToken())
    assert model.anchors.reused == anchored
