"""A PyTorch engine with the server's :class:`~tenon.inference.engine.Engine` protocol.

It lets evaluation run a transformers model through exactly the code the server runs
(``tenon.completion.complete``: classify → prompt → token healing → generate → stop rules →
post-processing). Token choice, forced prefixes and stop checks behave as in the ONNX engine.

On a CPU, decoding one sequence is bound by reading the weights; decoding several in step
costs little more per step. With ``max_batch > 1`` concurrent ``generate`` calls (one per
evaluation thread) are gathered into one batch: the prompts are left-padded and prefilled
together, then decoded in lockstep; a sequence leaves the batch as soon as it stops and its
caller gets its result at once. Each sequence keeps its own stop check, forced prefix and
sampling state, so results are those of one-at-a-time decoding up to floating-point
rounding of the padded batch.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from tenon.inference.engine import (
    CancelToken,
    EngineStats,
    GenerationResult,
    SamplingParams,
    StopCheck,
)
from tenon.inference.healing import ForcedPrefix
from tenon.inference.sampling import choose_token


@dataclass(frozen=True)
class TorchEngineOptions:
    max_batch: int = 1  # sequences decoded together
    gather_s: float = 0.05  # how long a batch waits for more requests
    device: str = "cpu"


@dataclass
class _Request:
    ids: list[int]
    params: SamplingParams
    stop: StopCheck
    cancel: CancelToken
    forced: ForcedPrefix | None
    rng: np.random.Generator
    result: GenerationResult
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


def masked(logits: np.ndarray, forced: ForcedPrefix | None) -> np.ndarray:
    """Logits with everything the forced prefix rules out set to -inf."""
    allowed = forced.allowed() if forced is not None else None
    if allowed is None or allowed.size == 0:
        return logits
    out = np.full_like(logits, -np.inf)
    out[allowed] = logits[allowed]
    return out


class TorchEngine:
    """Generates with a transformers causal LM; thread-safe, optionally batching."""

    def __init__(self, model, eos_ids: Sequence[int], options: TorchEngineOptions) -> None:
        self.model = model.eval()
        self.eos = frozenset(eos_ids)
        self.options = options
        self.provider = f"torch-{options.device}"
        self.stats = EngineStats()
        self._lock = threading.Lock()
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        if options.max_batch > 1:
            self._worker = threading.Thread(target=self._serve, daemon=True)
            self._worker.start()

    def generate(
        self,
        prompt_ids: Sequence[int],
        params: SamplingParams,
        stop: StopCheck,
        cancel: CancelToken,
        forced: ForcedPrefix | None = None,
    ) -> GenerationResult:
        if not prompt_ids:
            raise ValueError("empty prompt")
        result = GenerationResult([], "length", 0.0, len(prompt_ids), 0, 0.0, 0.0, self.provider)
        request = _Request(list(prompt_ids), params, stop, cancel, forced,
                           np.random.default_rng(params.seed), result)
        if self._worker is None:
            with self._lock:
                self._run([request])
        else:
            self._queue.put(request)
            request.done.wait()
        if request.error is not None:
            raise request.error
        return request.result

    def close(self) -> None:
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join()
            self._worker = None

    def _serve(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            deadline = time.monotonic() + self.options.gather_s
            while len(batch) < self.options.max_batch:
                try:
                    more = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    break
                batch.append(more)
            self._run(batch)

    def _run(self, batch: list[_Request]) -> None:
        try:
            with torch.inference_mode():
                _Batch(self, batch).run()
        except BaseException as exc:  # hand the failure to every waiting caller
            for request in batch:
                if not request.done.is_set():
                    request.error = exc
            with self.stats.lock:
                self.stats.errors += 1
        finally:
            for request in batch:
                request.done.set()


class _Batch:
    """One batch of requests: left-padded prefill, then lockstep decode."""

    def __init__(self, engine: TorchEngine, requests: list[_Request]) -> None:
        self.engine = engine
        self.active = list(requests)
        self.device = torch.device(engine.options.device)

    def _forward(self, ids, mask, positions, cache):
        from transformers import DynamicCache

        cache = cache if cache is not None else DynamicCache(config=self.engine.model.config)
        out = self.engine.model(input_ids=ids, attention_mask=mask, position_ids=positions,
                                past_key_values=cache, use_cache=True, logits_to_keep=1)
        with self.engine.stats.lock:
            self.engine.stats.forward_calls += 1
        return out.logits[:, -1, :].float().cpu().numpy(), out.past_key_values

    def _prefill(self):
        width = max(len(r.ids) for r in self.active)
        pad = next(iter(self.engine.eos))
        ids = torch.full((len(self.active), width), pad, dtype=torch.long)
        mask = torch.zeros((len(self.active), width), dtype=torch.long)
        for row, request in enumerate(self.active):
            ids[row, width - len(request.ids):] = torch.tensor(request.ids)
            mask[row, width - len(request.ids):] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        return ids.to(self.device), mask.to(self.device), positions.to(self.device)

    def run(self) -> None:
        started = time.perf_counter()
        for request in self.active:
            if request.cancel.cancelled:
                request.result.finish_reason = "cancelled"
        self._release([r for r in self.active if r.cancel.cancelled])
        self.active = [r for r in self.active if not r.cancel.cancelled]
        if not self.active:
            return
        ids, mask, positions = self._prefill()
        logits, cache = self._forward(ids, mask, positions, None)
        prompt_ms = (time.perf_counter() - started) * 1000
        decode_start = time.perf_counter()
        for request in self.active:
            request.result.prompt_ms = prompt_ms
        while self.active:
            tokens, keep = self._step(logits, decode_start)
            if not keep:
                break
            if len(keep) < logits.shape[0]:  # drop the rows that finished
                index = torch.tensor(keep, device=self.device)
                cache.batch_select_indices(index)
                mask, positions = mask[index], positions[index]
            mask = torch.cat([mask, torch.ones((len(keep), 1), dtype=mask.dtype,
                                               device=self.device)], dim=1)
            positions = positions[:, -1:] + 1
            step_ids = torch.tensor([[tokens[i]] for i in keep], device=self.device)
            logits, cache = self._forward(step_ids, mask, positions, cache)

    def _step(self, logits: np.ndarray, decode_start: float) -> tuple[dict[int, int], list[int]]:
        """Choose each row's next token; return the tokens and the rows that go on."""
        tokens: dict[int, int] = {}
        keep: list[int] = []
        still: list[_Request] = []
        finished: list[_Request] = []
        for row, request in enumerate(self.active):
            reason = self._advance(request, logits[row])
            if reason is None:
                tokens[row] = request.result.token_ids[-1]
                keep.append(row)
                still.append(request)
            else:
                request.result.finish_reason = reason
                request.result.decode_ms = (time.perf_counter() - decode_start) * 1000
                finished.append(request)
        self._release(finished)
        self.active = still
        return tokens, keep

    def _advance(self, request: _Request, logits: np.ndarray) -> str | None:
        """Take one token for ``request``; return why it finished, or None to go on."""
        result = request.result
        if request.cancel.cancelled:
            return "cancelled"
        if len(result.token_ids) >= request.params.max_new_tokens:
            return "length"
        token, logprob = choose_token(masked(logits, request.forced), request.params,
                                      request.rng)
        if request.forced is not None:
            request.forced.advance(token)
        if token in self.engine.eos:
            return "eos"
        result.token_ids.append(token)
        result.logprob += logprob
        if request.stop(result.token_ids):
            return "stop"
        if len(result.token_ids) >= request.params.max_new_tokens:
            return "length"
        return None

    def _release(self, finished: list[_Request]) -> None:
        stats = self.engine.stats
        for request in finished:
            with stats.lock:
                stats.generations += 1
                stats.tokens_generated += len(request.result.token_ids)
                stats.cancelled += int(request.result.finish_reason == "cancelled")
            request.done.set()
