"""What every inference engine offers, and the data that crosses its boundary."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

StopCheck = Callable[[Sequence[int]], bool]
"""Called with the tokens generated so far after each one; True stops generation."""


@dataclass(frozen=True)
class SamplingParams:
    max_new_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    draft_tokens: int = 0  # greedy only: tokens drafted from the context per step (0: off)


@dataclass
class GenerationResult:
    token_ids: list[int]
    finish_reason: str  # "eos", "stop", "length" or "cancelled"
    logprob: float
    prompt_tokens: int
    reused_tokens: int
    prompt_ms: float
    decode_ms: float
    provider: str
    decode_passes: int = 0  # forward passes after the prompt (fewer than tokens when drafting)


class CancelToken:
    """A flag checked by the engine before every decode step."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""
        self.step_at_cancel: int | None = None
        self.cancelled_at: float | None = None  # time.perf_counter() of the cancel
        self._step_source: Callable[[], int] | None = None

    def bind(self, step_source: Callable[[], int]) -> None:
        """Let the token record the engine's step counter when it is cancelled."""
        self._step_source = step_source

    def cancel(self, reason: str = "cancelled") -> None:
        if self._event.is_set():
            return
        self.reason = reason
        self.cancelled_at = time.perf_counter()
        if self._step_source is not None:
            self.step_at_cancel = self._step_source()
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking early if cancelled; True if cancelled."""
        return self._event.wait(seconds)


@dataclass
class EngineStats:
    """Counters the engine keeps; tests and the status request read them."""

    generations: int = 0
    forward_calls: int = 0
    tokens_fed: int = 0  # tokens run through the graph (prompt and generated)
    tokens_generated: int = 0
    decode_steps: int = 0  # forward passes of generated tokens (one, or one and a draft)
    tokens_drafted: int = 0  # tokens fed as drafts after a generated one (prompt_lookup)
    drafts_accepted: int = 0  # drafted tokens the model chose too (kept in the output)
    cancelled: int = 0
    max_steps_after_cancel: int = 0
    errors: int = 0
    last_cancel_to_stop_ms: float = 0.0  # the cancel flag set → the engine returned
    last_decode_step_ms: float = 0.0  # mean decode pass of the last generation
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def snapshot(self) -> dict[str, float]:
        with self.lock:
            return {
                "generations": self.generations,
                "forwardCalls": self.forward_calls,
                "tokensFed": self.tokens_fed,
                "tokensGenerated": self.tokens_generated,
                "decodeSteps": self.decode_steps,
                "tokensDrafted": self.tokens_drafted,
                "draftsAccepted": self.drafts_accepted,
                "cancelled": self.cancelled,
                "maxStepsAfterCancel": self.max_steps_after_cancel,
                "errors": self.errors,
                "lastCancelToStopMs": round(self.last_cancel_to_stop_ms, 2),
                "lastDecodeStepMs": round(self.last_decode_step_ms, 2),
            }


class Engine(Protocol):
    """Generates tokens from a prompt; must honour the cancel token between tokens."""

    provider: str
    stats: EngineStats

    def generate(
        self,
        prompt_ids: Sequence[int],
        params: SamplingParams,
        stop: StopCheck,
        cancel: CancelToken,
    ) -> GenerationResult: ...

    def close(self) -> None: ...
