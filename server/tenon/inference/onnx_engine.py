"""The ONNX Runtime engine: one decode graph with a KV cache, CUDA or CPU.

The graph takes ``input_ids`` and ``position_ids`` for any number of new tokens plus the
past keys and values of every layer, and returns the last position's logits with the
updated cache. An empty past makes the same graph a prefill. The cache of the last request
is kept, so a prompt that starts with the tokens already processed (the user typed a few
more characters) only feeds the new ones.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
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
from tenon.inference.sampling import choose_token

log = logging.getLogger(__name__)

# Dynamic int8 quantization scales activations per tensor, over every token fed at once:
# a long prompt in one piece loses precision (measured: the greedy body of a 1,300-token
# prompt went wrong in one piece and matched fp32 in 128-token pieces). Such graphs are
# prefilled in chunks, the last prompt token on its own.
PREFILL_CHUNK = {"int8": 128}
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
NUMPY_DTYPES = {"float32": np.float32, "float16": np.float16}


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


@dataclass
class KvCache:
    """Past keys and values of every layer, and the tokens they cover."""

    arrays: dict[str, np.ndarray]
    token_ids: list[int]

    def truncated(self, length: int) -> KvCache:
        return KvCache(
            {name: array[:, :, :length, :] for name, array in self.arrays.items()},
            self.token_ids[:length],
        )


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


class OnnxEngine:
    """Runs a bundle's decode graph with ONNX Runtime."""

    def __init__(self, bundle: Bundle, options: EngineOptions) -> None:
        self.bundle = bundle
        self.options = options
        self.stats = EngineStats()
        choice = choose_providers(options.device, ort.get_available_providers())
        self.variant = select_variant(bundle, options, choice)
        self.session = self._open_session(choice)
        self.provider = self.session.get_providers()[0]
        if choice.device == "cuda" and self.provider != CUDA:
            raise EngineError(
                f"CUDA was selected but ONNX Runtime could not start it and chose "
                f"{self.provider}; see the log for the CUDA error, or set device to cpu."
            )
        self.provider_note = choice.note
        self._dtype = NUMPY_DTYPES.get(self.variant.dtype, np.float32)
        self._cache: KvCache | None = None
        log.info("engine ready: %s (%s), graph %s", self.provider, choice.note, self.variant.file)

    def _open_session(self, choice: ProviderChoice) -> ort.InferenceSession:
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if self.options.threads > 0:
            opts.intra_op_num_threads = self.options.threads
        opts.log_severity_level = 3
        path = self.bundle.file(self.variant.file)
        try:
            return ort.InferenceSession(str(path), opts, providers=list(choice.providers))
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise engine_error(f"ONNX Runtime cannot load {path.name}", exc) from exc

    @property
    def device(self) -> str:
        return "cuda" if self.provider == CUDA else "cpu"

    def _empty_cache(self) -> KvCache:
        arch = self.bundle.manifest.architecture
        io = self.bundle.manifest.io
        shape = (1, arch.num_kv_heads, 0, arch.head_dim)
        arrays = {}
        for layer in range(arch.num_layers):
            arrays[io.past_key.format(layer=layer)] = np.zeros(shape, self._dtype)
            arrays[io.past_value.format(layer=layer)] = np.zeros(shape, self._dtype)
        return KvCache(arrays, [])

    def _forward(self, new_ids: Sequence[int], cache: KvCache) -> tuple[np.ndarray, KvCache]:
        io = self.bundle.manifest.io
        start = len(cache.token_ids)
        feed = {io.input_ids: np.asarray([new_ids], dtype=np.int64), **cache.arrays}
        if io.position_ids:
            positions = np.arange(start, start + len(new_ids), dtype=np.int64)
            feed[io.position_ids] = positions[None, :]
        names = [io.logits]
        layers = range(self.bundle.manifest.architecture.num_layers)
        for layer in layers:
            names += [io.present_key.format(layer=layer), io.present_value.format(layer=layer)]
        with self.stats.lock:
            self.stats.forward_calls += 1
        try:
            outputs = self.session.run(names, feed)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            with self.stats.lock:
                self.stats.errors += 1
            self._cache = None
            raise engine_error("ONNX Runtime failed during generation", exc) from exc
        arrays = {}
        for i, layer in enumerate(layers):
            arrays[io.past_key.format(layer=layer)] = outputs[1 + 2 * i]
            arrays[io.past_value.format(layer=layer)] = outputs[2 + 2 * i]
        return outputs[0][0, -1], KvCache(arrays, [*cache.token_ids, *new_ids])

    def _start_cache(self, prompt_ids: Sequence[int]) -> KvCache:
        """The longest cached prefix of the prompt, leaving at least one token to feed."""
        cache = self._cache
        if cache is None or not self.options.reuse_prefix:
            return self._empty_cache()
        keep = min(common_prefix(cache.token_ids, prompt_ids), len(prompt_ids) - 1)
        return cache.truncated(keep) if keep > 0 else self._empty_cache()

    def _prefill(
        self, ids: list[int], cache: KvCache, cancel: CancelToken
    ) -> tuple[np.ndarray | None, KvCache]:
        """Feed the prompt, in chunks where the graph needs it; None logits if cancelled."""
        chunk = PREFILL_CHUNK.get(self.variant.quantization or "", 0)
        if chunk:
            while len(ids) > 1:
                part = ids[: min(chunk, len(ids) - 1)]
                _, cache = self._forward(part, cache)
                self._cache = cache
                ids = ids[len(part) :]
                if cancel.cancelled:
                    return None, cache
        return self._forward(ids, cache)

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
        cache = self._start_cache(prompt_ids)
        reused = len(cache.token_ids)
        result = GenerationResult([], "length", 0.0, len(prompt_ids), reused, 0.0, 0.0,
                                  self.provider)
        if cancel.cancelled:
            return self._finish(result, "cancelled", cancel)
        logits, cache = self._prefill(list(prompt_ids[reused:]), cache, cancel)
        if logits is None:
            return self._finish(result, "cancelled", cancel)
        result.prompt_ms = (time.perf_counter() - started) * 1000
        decode_start = time.perf_counter()
        self._cache = cache
        for _ in range(params.max_new_tokens):
            if cancel.cancelled:  # checked before every step: at most the one in flight runs
                result.finish_reason = "cancelled"
                break
            token, logprob = choose_token(_masked(logits, forced), params, rng)
            if forced is not None:
                forced.advance(token)
            if token in eos:
                result.finish_reason = "eos"
                break
            result.token_ids.append(token)
            result.logprob += logprob
            if stop(result.token_ids):
                result.finish_reason = "stop"
                break
            if len(result.token_ids) >= params.max_new_tokens:
                break
            if cancel.cancelled:
                result.finish_reason = "cancelled"
                break
            logits, cache = self._forward([token], cache)
            self._cache = cache
        result.decode_ms = (time.perf_counter() - decode_start) * 1000
        return self._finish(result, result.finish_reason, cancel)

    def _finish(
        self, result: GenerationResult, reason: str, cancel: CancelToken
    ) -> GenerationResult:
        result.finish_reason = reason
        with self.stats.lock:
            self.stats.generations += 1
            self.stats.tokens_generated += len(result.token_ids)
            if reason == "cancelled":
                self.stats.cancelled += 1
                if cancel.step_at_cancel is not None:
                    after = self.stats.forward_calls - cancel.step_at_cancel
                    self.stats.max_steps_after_cancel = max(
                        self.stats.max_steps_after_cancel, after
                    )
        return result

    def close(self) -> None:
        self._cache = None


def _masked(logits: np.ndarray, forced: ForcedPrefix | None) -> np.ndarray:
    allowed = forced.allowed() if forced is not None else None
    if allowed is None or allowed.size == 0:
        return logits
    masked = np.full_like(logits, -np.inf)
    masked[allowed] = logits[allowed]
    return masked
