"""The ONNX Runtime engine: one decode graph with a KV cache, CUDA or CPU.

The graph takes ``input_ids`` and ``position_ids`` for any number of new tokens plus the
past keys and values of every layer, and returns the last position's logits (or the last
``num_logits`` positions', once rewritten) with the updated cache. An empty past makes the
same graph a prefill. The cache lives in preallocated buffers written in place where the
graph allows it (:mod:`kv_buffers`). The cache of the last request is kept, so a prompt
that starts with the tokens already processed (the user typed a few more characters) only
feeds the new ones; the prompt is fed in chunks, with the cancel flag checked between them,
and every chunk stays cached.

Greedy decoding drafts from the context when the request asks for it
(``SamplingParams.draft_tokens``, :mod:`prompt_lookup`): the chosen token and a draft go
through one pass that scores each position; the drafted tokens the model would have chosen
are kept, the rest dropped from the cache. On an fp32 or fp16 graph the output is plain
greedy's (up to float rounding). The int8 graph scales activations over all the tokens of
a pass, so a token can come out differently from one fed alone, as it can between prompt
chunk sizes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort

from tenon.bundle import Bundle, GraphVariant
from tenon.inference.engine import (
    CancelToken,
    EngineStats,
    GenerationResult,
    SamplingParams,
    StopCheck,
)
from tenon.inference.healing import ForcedPrefix
from tenon.inference.kv_buffers import BoundKv, KvStore, PlainKv
from tenon.inference.kv_slots import KvSlots, common_prefix
from tenon.inference.prompt_lookup import Lookup
from tenon.inference.sampling import choose_token
from tenon.inference.session import SessionError, open_session

log = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
NUMPY_DTYPES = {"float32": np.float32, "float16": np.float16}
# Dynamic int8 quantization scales activations per tensor, over every token fed at once:
# a long prompt in one piece loses precision (measured: the greedy body of a 1,300-token
# prompt went wrong in one piece and matched fp32 in 128-token pieces). Such graphs are
# prefilled in chunks of at most this many tokens, the last prompt token on its own.
PREFILL_CHUNK = {"int8": 128}
MAX_DRAFT = 16  # drafted tokens per step at most, whatever the settings ask


class EngineError(Exception):
    """The engine cannot load or run; the message is meant for the user."""


OUT_OF_MEMORY = (
    "out of memory: the model could not get the memory it needs. Use a smaller or quantized "
    "bundle, lower tenon.maxTokens or tenon.prefixTokens, or free memory"
)
OOM_SIGNS = ("failed to allocate memory", "bad_alloc", "out of memory",
             "cudaerrormemoryallocation", "cuda_error_out_of_memory")


def is_out_of_memory(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or any(s in str(exc).lower() for s in OOM_SIGNS)


def engine_error(what: str, exc: BaseException) -> EngineError:
    """A user-facing error for an ONNX Runtime failure; running out of memory said plainly."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    detail = text.split("Status Message:")[-1].strip()  # ONNX Runtime's own reason
    if "Failed to allocate" in detail:  # drop the source location before it
        detail = detail[detail.index("Failed to allocate") :]
    detail = detail[:300]
    if is_out_of_memory(exc):
        return EngineError(f"{OUT_OF_MEMORY} ({what}: {detail})")
    return EngineError(f"{what}: {detail}")


@dataclass(frozen=True)
class EngineOptions:
    device: str = "auto"  # "auto", "cuda" or "cpu"
    threads: int = 0  # 0: ONNX Runtime's default
    reuse_prefix: bool = True
    graph: str = ""  # a graph variant of the bundle by name; empty: the one for the device
    kv_in_place: bool = True  # preallocated KV buffers written in place, when the graph allows
    prefill_chunk: int = 256  # prompt tokens per forward pass (cancel is checked between)
    warm_up: bool = True  # run the graph once at load, so the first request is not slower
    optimized_cache: bool = True  # save ONNX Runtime's optimised graph under $TENON_HOME
    kv_slots: int = 3  # KV caches kept for recent prompts (documents); see kv_slots.py


@dataclass(frozen=True)
class ProviderChoice:
    providers: tuple[str, ...]
    device: str  # "cuda" or "cpu"
    note: str  # why this choice, shown to the user


def choose_providers(device: str, available: Sequence[str]) -> ProviderChoice:
    """CUDA first when asked or available, CPU otherwise; never a silent fallback."""
    if device not in ("auto", "cuda", "cpu"):
        raise EngineError(f"unknown device {device!r}: use auto, cuda or cpu")
    has_cuda = CUDA in available
    if device == "cuda" and not has_cuda:
        raise EngineError(
            "CUDA was requested but this onnxruntime has no CUDA execution provider "
            f"(available: {', '.join(available)}). Install `tenon[gpu]` (onnxruntime-gpu) "
            "in an environment without the CPU onnxruntime, or set device to auto or cpu."
        )
    if device in ("auto", "cuda") and has_cuda:
        return ProviderChoice((CUDA, CPU), "cuda", "CUDA execution provider")
    note = "CPU (asked for)" if device == "cpu" else "CPU (no CUDA execution provider here)"
    return ProviderChoice((CPU,), "cpu", note)


def select_variant(bundle: Bundle, options: EngineOptions, choice: ProviderChoice) -> GraphVariant:
    """The graph the engine will run: the one named in the options, else the device's."""
    if options.graph:
        return bundle.manifest.graphs[options.graph]
    return bundle.graph_for(choice.device)


class OnnxEngine:
    """Runs a bundle's decode graph with ONNX Runtime."""

    def __init__(self, bundle: Bundle, options: EngineOptions) -> None:
        self.bundle = bundle
        self.options = options
        self.stats = EngineStats()
        choice = choose_providers(options.device, ort.get_available_providers())
        self.variant = select_variant(bundle, options, choice)
        try:
            opened = open_session(bundle, self.variant, list(choice.providers), options.threads,
                                  options.kv_in_place, options.optimized_cache)
        except SessionError as exc:
            raise engine_error("ONNX Runtime cannot load " + self.variant.file,
                               exc.__cause__ or exc) from exc
        self.session = opened.session
        self.provider = self.session.get_providers()[0]
        if choice.device == "cuda" and self.provider != CUDA:
            raise EngineError(
                f"CUDA was selected but ONNX Runtime could not start it and chose "
                f"{self.provider}; see the log for the CUDA error, or set device to cpu."
            )
        self.provider_note = choice.note
        self.kv_note = opened.note
        self._slots = KvSlots(lambda: self._make_store(opened.kv_in_place), options.kv_slots)
        self._store = self._slots.stores[0]  # the slot of the request being run
        if options.warm_up:
            self._warm_up()
        log.info("engine ready: %s (%s), graph %s, %s", self.provider, choice.note,
                 self.variant.file, opened.note)

    def _make_store(self, in_place: bool) -> KvStore:
        manifest = self.bundle.manifest
        dtype = NUMPY_DTYPES.get(self.variant.dtype, np.float32)
        if in_place:
            return BoundKv(self.session, manifest.io, manifest.architecture, dtype, self.device)
        return PlainKv(self.session, manifest.io, manifest.architecture, dtype)

    def _warm_up(self) -> None:
        """A prompt-sized, a decode-sized and a drafted pass: the first request pays no
        first-run cost."""
        started = time.perf_counter()
        chunk = max(1, min(self.options.prefill_chunk, 16))
        self._store.keep(0)
        self._store.forward([0] * chunk)
        self._store.forward([0])
        if self._store.multi_logits:  # a decode step with a draft after it
            self._store.score([0] * 5)
        self._store.keep(0)
        log.info("warm-up: %.0f ms", (time.perf_counter() - started) * 1000)

    @property
    def device(self) -> str:
        return "cuda" if self.provider == CUDA else "cpu"

    @property
    def kv_in_place(self) -> bool:
        return isinstance(self._store, BoundKv)

    def reset(self) -> None:
        """Forget the cached tokens."""
        self._slots.reset()

    def feed(self, ids: Sequence[int]) -> np.ndarray:
        """Process ``ids`` after the cached tokens in one pass; the last position's logits."""
        return self._pass(self._store.forward, ids)

    def score(self, ids: Sequence[int]) -> np.ndarray:
        """Process ``ids`` after the cached tokens in one pass; the logits after each."""
        return self._pass(self._store.score, ids)

    def _pass(self, run: Callable[[list[int]], np.ndarray], ids: Sequence[int]) -> np.ndarray:
        with self.stats.lock:
            self.stats.forward_calls += 1
            self.stats.tokens_fed += len(ids)
        try:
            return run(list(ids))
        except Exception as exc:  # onnxruntime raises its own untyped errors
            with self.stats.lock:
                self.stats.errors += 1
            self._store.keep(0)
            raise engine_error("ONNX Runtime failed during generation", exc) from exc

    def _reusable(self, prompt_ids: Sequence[int]) -> int:
        """How many leading prompt tokens are cached, leaving at least one token to feed."""
        if not self.options.reuse_prefix:
            return 0
        return min(common_prefix(self._store.tokens, prompt_ids), len(prompt_ids) - 1)

    def _prefill(self, prompt_ids: Sequence[int], reused: int,
                 cancel: CancelToken) -> np.ndarray | None:
        """Feed the prompt after its ``reused`` cached tokens in chunks; None if cancelled
        in between.

        Each chunk stays in the cache, so the work of a request cancelled mid-prompt serves
        the next one (a burst of keystrokes shares its prefix).
        """
        self._store.keep(reused)
        rest = list(prompt_ids[len(self._store.tokens):])
        step = max(1, self.options.prefill_chunk)
        quantized = PREFILL_CHUNK.get(self.variant.quantization or "")
        pieces = _pieces(rest, min(step, quantized) if quantized else step, bool(quantized))
        logits = None
        for piece in pieces:
            if cancel.cancelled:
                return None
            logits = self.feed(piece)
        return logits

    def _current_step(self) -> int:
        with self.stats.lock:
            return self.stats.forward_calls

    def generate(
        self,
        prompt_ids: Sequence[int],
        params: SamplingParams,
        stop: StopCheck,
        cancel: CancelToken,
        forced: ForcedPrefix | None = None,
    ) -> GenerationResult:
        if not prompt_ids:
            raise EngineError("empty prompt")
        cancel.bind(self._current_step)
        rng = np.random.default_rng(params.seed)
        eos = set(self.bundle.manifest.vocabulary.eos_ids) | set(
            self.bundle.manifest.vocabulary.stop_ids
        )
        started = time.perf_counter()
        if self.options.reuse_prefix:
            self._store = self._slots.pick(prompt_ids)
        reused = self._reusable(prompt_ids)
        result = GenerationResult([], "length", 0.0, len(prompt_ids), reused, 0.0, 0.0,
                                  self.provider)
        logits = None if cancel.cancelled else self._prefill(prompt_ids, reused, cancel)
        if logits is None:
            return self._finish(result, "cancelled", cancel)
        result.prompt_ms = (time.perf_counter() - started) * 1000
        decode_start = time.perf_counter()
        lookup = self._lookup(prompt_ids, params)
        turn = _Turn(result, params, eos, stop, forced)
        while turn.room() > 0:
            if cancel.cancelled:  # checked before every step: at most the one in flight runs
                result.finish_reason = "cancelled"
                break
            token, logprob = choose_token(_masked(logits, forced), params, rng)
            if turn.take(token, logprob):
                break
            if cancel.cancelled:
                result.finish_reason = "cancelled"
                break
            logits = self._step(token, lookup, turn, rng)
            result.decode_passes += 1
            if logits is None:
                break
        result.decode_ms = (time.perf_counter() - decode_start) * 1000
        return self._finish(result, result.finish_reason, cancel)

    def _lookup(self, prompt_ids: Sequence[int], params: SamplingParams) -> Lookup | None:
        """Drafting from the context: greedy decoding on a graph that scores several
        positions, when the options allow it."""
        if (params.draft_tokens <= 0 or params.temperature > 0.0
                or not self._store.multi_logits):
            return None
        return Lookup(prompt_ids)

    def _step(self, token: int, lookup: Lookup | None, turn: _Turn,
              rng: np.random.Generator) -> np.ndarray | None:
        """Feed the chosen token, with a draft after it when the context offers one; the
        logits to choose the next token from, or None when a drafted token ended the turn."""
        if lookup is not None:
            lookup.append(token)
        room = min(turn.params.draft_tokens, MAX_DRAFT, turn.room() - 1)
        drafted = lookup.draft(room) if lookup is not None and turn.may_draft() else []
        if not drafted:
            logits = self.feed([token])
            with self.stats.lock:
                self.stats.decode_steps += 1
            return logits
        rows = self.score([token, *drafted])
        picks = [choose_token(row, turn.params, rng) for row in rows[:-1]]
        kept = common_prefix([pick[0] for pick in picks], drafted)  # the model's own choices
        self._store.keep(len(self._store.tokens) - (len(drafted) - kept))
        with self.stats.lock:
            self.stats.decode_steps += 1
            self.stats.tokens_drafted += len(drafted)
            self.stats.drafts_accepted += kept
        for pick in picks[:kept]:
            if turn.take(*pick):
                return None
            lookup.append(pick[0])
        return rows[kept]

    def _finish(
        self, result: GenerationResult, reason: str, cancel: CancelToken
    ) -> GenerationResult:
        result.finish_reason = reason
        with self.stats.lock:
            self.stats.generations += 1
            self.stats.tokens_generated += len(result.token_ids)
            if result.decode_passes:
                self.stats.last_decode_step_ms = result.decode_ms / result.decode_passes
            if reason == "cancelled":
                self.stats.cancelled += 1
                if cancel.cancelled_at is not None:
                    self.stats.last_cancel_to_stop_ms = (
                        time.perf_counter() - cancel.cancelled_at) * 1000
                if cancel.step_at_cancel is not None:
                    after = self.stats.forward_calls - cancel.step_at_cancel
                    self.stats.max_steps_after_cancel = max(
                        self.stats.max_steps_after_cancel, after
                    )
        return result

    def close(self) -> None:
        self._slots.close()


class _Turn:
    """One generation's output and the rules that end it (end of text, stop, length)."""

    def __init__(self, result: GenerationResult, params: SamplingParams, eos: set[int],
                 stop: StopCheck, forced: ForcedPrefix | None) -> None:
        self.result, self.params, self.eos, self.stop, self.forced = (
            result, params, eos, stop, forced)

    def take(self, token: int, logprob: float) -> bool:
        """Add a chosen token; True when the turn is over (``finish_reason`` set)."""
        result = self.result
        if self.forced is not None:
            self.forced.advance(token)
        if token in self.eos:
            result.finish_reason = "eos"
            return True
        result.token_ids.append(token)
        result.logprob += logprob
        if self.stop(result.token_ids):
            result.finish_reason = "stop"
            return True
        return self.room() <= 0  # "length", the result's default reason

    def room(self) -> int:
        return self.params.max_new_tokens - len(self.result.token_ids)

    def may_draft(self) -> bool:
        """No draft while a healed prefix still constrains the next tokens."""
        return self.forced is None or self.forced.allowed() is None


def _pieces(ids: list[int], step: int, last_alone: bool) -> list[list[int]]:
    """``ids`` in chunks of ``step``; with ``last_alone`` the last token is a chunk of its own."""
    head, tail = (ids[:-1], ids[-1:]) if last_alone and len(ids) > 1 else (ids, [])
    return [head[i : i + step] for i in range(0, len(head), step)] + ([tail] if tail else [])


def _masked(logits: np.ndarray, forced: ForcedPrefix | None) -> np.ndarray:
    allowed = forced.allowed() if forced is not None else None
    if allowed is None or allowed.size == 0:
        return logits
    masked = np.full_like(logits, -np.inf)
    masked[allowed] = logits[allowed]
    return masked
