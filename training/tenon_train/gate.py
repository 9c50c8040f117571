"""The evaluation gate: is the candidate bundle good enough to replace the current one?

It must beat the current bundle on the held-out split (by ``min_heldout_gain`` points of
the chosen metric, strictly) and lose at most ``max_humaneval_drop`` points of HumanEval
pass@1. Both bundles are judged the same way: the quantized graph the server runs on CPU,
through the server's own pipeline.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class GateConfig:
    heldout_metric: str = "edit_similarity"  # or "exact_match", "parse_rate"
    min_heldout_gain: float = 0.0  # points; the candidate must be strictly better by more
    max_humaneval_drop: float = 1.0  # points of pass@1


@dataclass(frozen=True)
class GateDecision:
    publish: bool
    reasons: tuple[str, ...]
    heldout_current: float
    heldout_candidate: float
    humaneval_current: float
    humaneval_candidate: float

    def to_dict(self) -> dict:
        return asdict(self)


def decide(current: dict[str, dict], candidate: dict[str, dict], cfg: GateConfig) -> GateDecision:
    """``current`` / ``candidate``: evaluation results by suite (their ``summary``)."""
    metric = cfg.heldout_metric
    held_now = current["heldout"]["summary"][metric]
    held_new = candidate["heldout"]["summary"][metric]
    he_now = current["humaneval"]["summary"]["pass_at_1"]
    he_new = candidate["humaneval"]["summary"]["pass_at_1"]
    reasons = []
    gain = held_new - held_now
    if gain > cfg.min_heldout_gain:
        reasons.append(f"held-out {metric} {held_now:.2f} → {held_new:.2f} (+{gain:.2f}): beats")
    else:
        reasons.append(f"held-out {metric} {held_now:.2f} → {held_new:.2f} ({gain:+.2f}): "
                       f"does not beat the current bundle by more than {cfg.min_heldout_gain}")
    drop = he_now - he_new
    if drop <= cfg.max_humaneval_drop:
        reasons.append(f"HumanEval pass@1 {he_now:.2f} → {he_new:.2f}: within "
                       f"{cfg.max_humaneval_drop} point")
    else:
        reasons.append(f"HumanEval pass@1 {he_now:.2f} → {he_new:.2f}: loses {drop:.2f} "
                       f"points (at most {cfg.max_humaneval_drop} allowed)")
    ok = gain > cfg.min_heldout_gain and drop <= cfg.max_humaneval_drop
    return GateDecision(ok, tuple(reasons), held_now, held_new, he_now, he_new)
