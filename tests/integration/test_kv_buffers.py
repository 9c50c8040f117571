"""The KV cache in preallocated buffers gives what the plain arrays give, on a tiny real bundle.

The int8 graph quantizes activations per forward pass, so its results depend on how the
tokens are split into passes: comparisons of the two stores use the same split (and are
then exact); comparisons across different splits (prefix reuse) use the fp32 graph.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from tenon.bundle import load_bundle
from tenon.inference.engine import CancelToken, SamplingParams
from tenon.inference.graph_rewrite import rewrite_for_shared_kv
from tenon.inference.kv_buffers import BoundKv, PlainKv
from tenon.inference.onnx_engine import EngineOptions, OnnxEngine

NEVER = lambda _ids: False  # noqa: E731
PROMPT = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]


def engine(bundle, **options) -> OnnxEngine:
    return OnnxEngine(bundle, EngineOptions(device="cpu", **options))


@pytest.fixture(scope="module")
def bundle(tiny_qwen):
    return load_bundle(tiny_qwen.path)


def test_the_exported_graph_runs_with_its_kv_in_place(bundle):
    assert engine(bundle).kv_in_place
    assert not engine(bundle, kv_in_place=False).kv_in_place


@pytest.mark.parametrize("graph", ["int8", "fp32"])
def test_in_place_buffers_give_the_same_tokens_as_plain_arrays(bundle, graph):
    in_place = engine(bundle, graph=graph, reuse_prefix=False)
    plain = engine(bundle, graph=graph, reuse_prefix=False, kv_in_place=False)
    for prompt in (PROMPT, PROMPT[:3], [9, 8, 7, 6]):
        a = in_place.generate(prompt, SamplingParams(24), NEVER, CancelToken())
        b = plain.generate(prompt, SamplingParams(24), NEVER, CancelToken())
        assert a.token_ids == b.token_ids
        assert a.logprob == pytest.approx(b.logprob, abs=1e-4)


def stores(engine_in_place: OnnxEngine, engine_plain: OnnxEngine, capacity: int):
    manifest = engine_in_place.bundle.manifest
    bound = BoundKv(engine_in_place.session, manifest.io, manifest.architecture, np.float32,
                    capacity=capacity)
    plain = PlainKv(engine_plain.session, manifest.io, manifest.architecture, np.float32)
    return bound, plain


def test_buffers_grow_and_truncate_like_plain_arrays(bundle):
    bound, plain = stores(engine(bundle), engine(bundle, kv_in_place=False), capacity=16)
    steps = [("feed", PROMPT), ("feed", PROMPT[:7]), ("feed", [30]), ("keep", 9),
             ("feed", [40, 41, 42]), ("keep", 0), ("feed", PROMPT[::-1])]
    for action, arg in steps:
        if action == "keep":
            bound.keep(arg)
            plain.keep(arg)
            continue
        np.testing.assert_allclose(bound.forward(arg), plain.forward(arg), atol=1e-5)
        assert bound.tokens == plain.tokens
    assert bound.capacity >= 28


def test_reused_prefix_gives_the_tokens_of_a_fresh_prompt(bundle):
    reusing = engine(bundle, graph="fp32")
    fresh = engine(bundle, graph="fp32", reuse_prefix=False)
    reusing.generate(PROMPT[:12], SamplingParams(8), NEVER, CancelToken())
    again = reusing.generate([*PROMPT, 25], SamplingParams(16), NEVER, CancelToken())
    assert again.reused_tokens == 12
    expected = fresh.generate([*PROMPT, 25], SamplingParams(16), NEVER, CancelToken())
    assert again.token_ids == expected.token_ids


def test_the_prompt_is_fed_in_chunks(bundle):
    chunked = engine(bundle, graph="fp32", prefill_chunk=6, reuse_prefix=False)
    whole = engine(bundle, graph="fp32", prefill_chunk=1000, reuse_prefix=False)
    before = chunked.stats.snapshot()["forwardCalls"]
    a = chunked.generate(PROMPT, SamplingParams(1), NEVER, CancelToken())
    assert chunked.stats.snapshot()["forwardCalls"] - before == 4  # 20 tokens: 6+6+6+2
    b = whole.generate(PROMPT, SamplingParams(1), NEVER, CancelToken())
    assert a.token_ids == b.token_ids


class CancelAfterChecks(CancelToken):
    """A cancel token that reads as cancelled from its ``n``-th check on."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.checks_left = n

    @property
    def cancelled(self) -> bool:
        self.checks_left -= 1
        return self.checks_left < 0 or super().cancelled


def test_a_prompt_cancelled_midway_keeps_its_chunks_for_the_next_request(bundle):
    eng = engine(bundle, prefill_chunk=6)
    cancelled = eng.generate(PROMPT, SamplingParams(8), NEVER, CancelAfterChecks(3))
    assert cancelled.finish_reason == "cancelled" and cancelled.token_ids == []
    again = eng.generate(PROMPT, SamplingParams(8), NEVER, CancelToken())
    assert again.reused_tokens == 12  # two chunks were done before the cancel


def test_a_graph_whose_cache_feeds_other_nodes_is_not_rewritten(tmp_path, bundle):
    from onnx import TensorProto, helper

    io = bundle.manifest.io
    names = [io.past_key.format(layer=0), io.past_value.format(layer=0)]
    graph = helper.make_graph(
        [helper.make_node("Identity", [names[0]], ["out"])], "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 2, None, 4]) for n in names],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 2, None, 4])])
    path = tmp_path / "plain.onnx"
    onnx.save(helper.make_model(graph), str(path))
    assert rewrite_for_shared_kv(path, io, 1) is None


def test_the_saved_optimised_graph_gives_the_same_logits(bundle, tmp_path, monkeypatch):
    import time

    from tenon.inference import optimized_cache

    monkeypatch.setenv("TENON_HOME", str(tmp_path))
    monkeypatch.setattr(optimized_cache, "MIN_GRAPH_BYTES", 0)
    first = engine(bundle)
    assert "saved optimised graph" not in first.kv_note
    key = optimized_cache.cache_key(bundle.file(first.variant.file), first.provider, True)
    deadline = time.monotonic() + 120
    while optimized_cache.cached_model(key) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    second = engine(bundle)
    assert second.kv_note == "in-place KV, saved optimised graph" and second.kv_in_place
    for eng in (first, second):
        eng.reset()
    np.testing.assert_allclose(first.feed(PROMPT), second.feed(PROMPT), atol=1e-5)
    np.testing.assert_allclose(first.feed([3]), second.feed([3]), atol=1e-5)
