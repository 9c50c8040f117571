"""Several KV caches: a prompt continues the cache of its own document (tiny real bundle)."""

from __future__ import annotations

import pytest

from tenon.bundle import load_bundle
from tenon.inference.engine import CancelToken, SamplingParams
from tenon.inference.onnx_engine import EngineOptions, OnnxEngine

NEVER = lambda _ids: False  # noqa: E731
A = list(range(5, 25))  # three "documents": prompts that share nothing
B = list(range(60, 80))
C = list(range(100, 120))


@pytest.fixture(scope="module")
def bundle(tiny_qwen):
    return load_bundle(tiny_qwen.path)


def engine(bundle, **options) -> OnnxEngine:
    return OnnxEngine(bundle, EngineOptions(device="cpu", graph="fp32", **options))


def run(engine: OnnxEngine, prompt: list[int]):
    return engine.generate(prompt, SamplingParams(6), NEVER, CancelToken())


def test_going_back_to_a_document_finds_its_prompt_cached(bundle):
    slots = engine(bundle, kv_slots=3)
    run(slots, A)
    run(slots, B)
    back = run(slots, [*A, 30])
    assert back.reused_tokens == len(A)
    assert back.token_ids == run(engine(bundle, reuse_prefix=False), [*A, 30]).token_ids
    one = engine(bundle, kv_slots=1)
    run(one, A)
    run(one, B)
    assert run(one, [*A, 30]).reused_tokens == 0  # one cache: B's prompt replaced A's


def test_the_least_recently_used_cache_makes_room(bundle):
    slots = engine(bundle, kv_slots=2)
    for prompt in (A, B, C):
        run(slots, prompt)
    assert run(slots, [*C, 30]).reused_tokens == len(C)
    assert run(slots, [*B, 30]).reused_tokens == len(B)
    assert run(slots, [*A, 30]).reused_tokens == 0  # A's was the oldest when C came


def test_a_prompt_sharing_less_than_half_takes_another_cache(bundle):
    slots = engine(bundle, kv_slots=3)
    run(slots, A)
    edited = [*A[:3], 50, *A[4:]]  # an edit near the top: most of the prompt is new anyway
    assert run(slots, edited).reused_tokens == 0
    assert run(slots, [*A, 30]).reused_tokens == len(A)
    assert run(slots, [*edited, 30]).reused_tokens == len(edited)
