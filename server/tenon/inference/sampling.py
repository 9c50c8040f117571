"""Choosing the next token from logits: greedy, or temperature with nucleus (top-p)."""

from __future__ import annotations

import numpy as np

from tenon.inference.engine import SamplingParams


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits.astype(np.float64) - float(np.max(logits))
    return shifted - np.log(np.sum(np.exp(shifted)))


def choose_token(
    logits: np.ndarray, params: SamplingParams, rng: np.random.Generator
) -> tuple[int, float]:
    """Return the next token id and its log-probability under the model."""
    if params.temperature <= 0.0:  # greedy: one pass for the log-sum-exp, in float32
        token = int(np.argmax(logits))
        top = logits[token]
        return token, -float(np.log(np.sum(np.exp(logits - top), dtype=np.float64)))
    logprobs = log_softmax(logits)
    scaled = log_softmax(logits / params.temperature)
    probs = np.exp(scaled)
    order = np.argsort(-probs)
    cumulative = np.cumsum(probs[order])
    keep = order[: int(np.searchsorted(cumulative, params.top_p) + 1)]
    kept = probs[keep] / probs[keep].sum()
    token = int(rng.choice(keep, p=kept))
    return token, float(logprobs[token])
