"""Drafting from the context (prompt lookup) on a tiny real bundle: same tokens, fewer passes.

The fp32 graph scores a position alike whether it is fed alone or with others, so greedy
decoding with drafts must give exactly the tokens of greedy decoding without them.
"""

from __future__ import annotations

import numpy as np
import pytest

from tenon.bundle import load_bundle
from tenon.inference.engine import CancelToken, SamplingParams
from tenon.inference.onnx_engine import EngineOptions, OnnxEngine
from tests.support.tiny import CORPUS

NEVER = lambda _ids: False  # noqa: E731


@pytest.fixture(scope="module")
def bundle(tiny_qwen):
    return load_bundle(tiny_qwen.path)


@pytest.fixture(scope="module")
def prompts(tiny_qwen):
    """Code the model recites, shown once in full and then begun again: the rest repeats."""
    encode = lambda text: tiny_qwen.tokenizer.encode(text).ids  # noqa: E731
    return [encode(CORPUS[3] + "\n" + CORPUS[3][:40]), encode(CORPUS[0] + CORPUS[0][:30]),
            encode(CORPUS[6][:50])]


def engine(bundle, graph="fp32", **options) -> OnnxEngine:
    return OnnxEngine(bundle, EngineOptions(device="cpu", graph=graph, **options))


def greedy(engine: OnnxEngine, prompt, draft: int, tokens: int = 40, stop=NEVER):
    return engine.generate(prompt, SamplingParams(tokens, draft_tokens=draft), stop,
                           CancelToken())


def test_one_pass_scores_each_position_as_feeding_them_one_by_one(bundle, prompts):
    one = engine(bundle, reuse_prefix=False)
    assert one._store.multi_logits
    one.feed(prompts[0][:10])
    rows = one.score(prompts[0][10:14])
    assert rows.shape == (4, bundle.manifest.architecture.vocab_size)
    one.reset()
    one.feed(prompts[0][:10])
    for i, row in enumerate(rows):
        assert np.allclose(one.feed([prompts[0][10 + i]]), row, atol=1e-4)


@pytest.mark.parametrize("draft", [1, 4, 16])
def test_drafting_gives_the_tokens_of_plain_greedy_in_fewer_passes(bundle, prompts, draft):
    plain, drafting = engine(bundle, reuse_prefix=False), engine(bundle, reuse_prefix=False)
    for prompt in prompts:
        assert greedy(drafting, prompt, draft).token_ids == greedy(plain, prompt, 0).token_ids
    made = drafting.stats.tokens_generated
    assert made == plain.stats.tokens_generated > 20
    assert drafting.stats.drafts_accepted > 0 and plain.stats.tokens_drafted == 0
    assert drafting.stats.decode_steps < plain.stats.decode_steps
    assert drafting.stats.forward_calls < plain.stats.forward_calls


def test_stop_rules_and_the_token_limit_hold_inside_an_accepted_draft(bundle, prompts):
    plain, drafting = engine(bundle, reuse_prefix=False), engine(bundle, reuse_prefix=False)
    for limit in (1, 2, 7):
        a, b = greedy(drafting, prompts[0], 8, tokens=limit), greedy(plain, prompts[0], 0,
                                                                    tokens=limit)
        assert a.token_ids == b.token_ids and len(a.token_ids) == limit
        assert a.finish_reason == b.finish_reason == "length"
    five = lambda ids: len(ids) >= 5  # noqa: E731
    a, b = greedy(drafting, prompts[0], 8, stop=five), greedy(plain, prompts[0], 0, stop=five)
    assert a.token_ids == b.token_ids and len(a.token_ids) == 5 and a.finish_reason == "stop"
    assert drafting.stats.drafts_accepted > 0


def test_the_cache_holds_no_rejected_draft(bundle, prompts):
    """After drafted steps, a prompt continuing the output reuses the cache and gives what a
    fresh engine gives: rejected drafts were dropped from the cache."""
    cached, fresh = engine(bundle), engine(bundle, reuse_prefix=False)
    for prompt in prompts:
        first = greedy(cached, prompt, 4)
        follow = [*prompt, *first.token_ids, *prompt[:3]]
        again = greedy(cached, follow, 4)
        assert again.reused_tokens >= len(prompt) + len(first.token_ids) - 1
        assert again.token_ids == greedy(fresh, follow, 0).token_ids
    assert cached.stats.tokens_drafted > cached.stats.drafts_accepted  # some were rejected


def test_sampling_and_plain_graphs_never_draft(bundle, prompts):
    sampled = engine(bundle)
    sampled.generate(prompts[0], SamplingParams(20, temperature=0.8, draft_tokens=4), NEVER,
                     CancelToken())
    assert sampled.stats.tokens_drafted == 0
    plain_kv = engine(bundle, kv_in_place=False)
    assert not plain_kv._store.multi_logits
    out = greedy(plain_kv, prompts[0], 4)
    assert out.token_ids == greedy(engine(bundle, reuse_prefix=False), prompts[0], 0).token_ids
    assert plain_kv.stats.tokens_drafted == 0


def test_the_int8_graph_drafts_too(bundle, prompts):
    int8 = engine(bundle, graph="int8", reuse_prefix=False)
    out = greedy(int8, prompts[0], 4)
    assert len(out.token_ids) >= 5 and int8.stats.drafts_accepted > 0
