"""Where the engine keeps the KV cache: preallocated buffers, or plain arrays.

Both stores hold the keys and values of the tokens processed so far (``tokens``) and run
one forward pass of the decode graph on new tokens. ``keep(n)`` forgets everything after
the first ``n`` tokens, which is how the cached prefix of the previous request is reused.

- :class:`BoundKv`: one buffer per layer for keys and one for values, allocated once at a
  capacity (grown by doubling when a prompt needs more), bound with IO binding as both the
  graph's past input and its present output, so the attention writes the new positions in
  place. Nothing is copied per step; ``keep`` is free. Needs the rewritten graph
  (:mod:`tenon.inference.graph_rewrite`).
- :class:`PlainKv`: the graph's own contract: past arrays in, new present arrays out (the
  whole cache copied on every step). Used for graphs that cannot be rewritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import onnxruntime as ort

from tenon.bundle import Architecture, GraphIO
from tenon.inference.graph_rewrite import NUM_LOGITS_INPUT, PAST_LENGTH_INPUT

GROW_STEP = 64  # capacities are multiples of this many positions


class KvStore(Protocol):
    tokens: list[int]
    multi_logits: bool  # ``score`` works: the graph scores several last positions

    def keep(self, length: int) -> None: ...

    def forward(self, new_ids: Sequence[int]) -> np.ndarray: ...

    def score(self, new_ids: Sequence[int]) -> np.ndarray: ...

    def close(self) -> None: ...


def output_dtype(session: ort.InferenceSession, name: str) -> type:
    kind = next(o.type for o in session.get_outputs() if o.name == name)
    return np.float16 if kind == "tensor(float16)" else np.float32


def _positions(start: int, count: int) -> np.ndarray:
    return np.arange(start, start + count, dtype=np.int64)[None, :]


class BoundKv:
    """KV cache in preallocated buffers that the graph reads and writes in place."""

    def __init__(self, session: ort.InferenceSession, io: GraphIO, arch: Architecture,
                 dtype: type, device: str = "cpu", capacity: int = 2048) -> None:
        self.session = session
        self.io = io
        self.arch = arch
        self.dtype = dtype
        self.device = device  # "cpu" or "cuda"
        self.tokens: list[int] = []
        self.capacity = 0
        self._buffers: list[tuple[str, str, ort.OrtValue]] = []
        self._host: list[np.ndarray] = []  # CPU: the arrays behind the buffers
        self.multi_logits = NUM_LOGITS_INPUT in {i.name for i in session.get_inputs()}
        self._logits_dtype = output_dtype(session, io.logits)
        self._logits: dict[int, np.ndarray] = {}  # output buffers by positions scored
        self._grow(capacity)

    def _shape(self, capacity: int) -> list[int]:
        return [1, self.arch.num_kv_heads, capacity, self.arch.head_dim]

    def _grow(self, needed: int) -> None:
        """Make room for ``needed`` positions, keeping the cached ones."""
        capacity = max(needed, 2 * self.capacity)
        capacity = -(-capacity // GROW_STEP) * GROW_STEP
        kept = len(self.tokens)
        buffers, host = [], []
        for i, (past, present) in enumerate(self._names()):
            if self.device == "cpu":
                array = np.zeros(self._shape(capacity), dtype=self.dtype)
                if kept:
                    array[:, :, :kept] = self._host[i][:, :, :kept]
                host.append(array)
                value = ort.OrtValue.ortvalue_from_numpy(array)
            else:
                value = ort.OrtValue.ortvalue_from_shape_and_type(
                    self._shape(capacity), self.dtype, "cuda", 0)
                if kept:
                    old = self._buffers[i][2].numpy()
                    array = np.zeros(self._shape(capacity), dtype=self.dtype)
                    array[:, :, :kept] = old[:, :, :kept]
                    value.update_inplace(array)
            buffers.append((past, present, value))
        self._buffers, self._host, self.capacity = buffers, host, capacity

    def _names(self) -> list[tuple[str, str]]:
        io = self.io
        names = []
        for layer in range(self.arch.num_layers):
            names.append((io.past_key.format(layer=layer), io.present_key.format(layer=layer)))
            names.append((io.past_value.format(layer=layer),
                          io.present_value.format(layer=layer)))
        return names

    def keep(self, length: int) -> None:
        del self.tokens[length:]

    def forward(self, new_ids: Sequence[int]) -> np.ndarray:
        """Feed ``new_ids``; the last position's logits."""
        return self._run(new_ids, 1)[-1]

    def score(self, new_ids: Sequence[int]) -> np.ndarray:
        """Feed ``new_ids``; the logits after each of them, one row per token (needs a graph
        rewritten to score several positions: ``multi_logits``)."""
        if not self.multi_logits:
            raise ValueError("this graph scores the last position only")
        return self._run(new_ids, len(new_ids))

    def _run(self, new_ids: Sequence[int], scored: int) -> np.ndarray:
        start = len(self.tokens)
        if start + len(new_ids) > self.capacity:
            self._grow(start + len(new_ids))
        binding = self.session.io_binding()
        binding.bind_cpu_input(self.io.input_ids, np.asarray([new_ids], dtype=np.int64))
        if self.io.position_ids:
            binding.bind_cpu_input(self.io.position_ids, _positions(start, len(new_ids)))
        binding.bind_cpu_input(PAST_LENGTH_INPUT, np.asarray([start], dtype=np.int64))
        if self.multi_logits:
            binding.bind_cpu_input(NUM_LOGITS_INPUT, np.asarray([scored], dtype=np.int64))
        for past, present, value in self._buffers:
            binding.bind_ortvalue_input(past, value)
            binding.bind_ortvalue_output(present, value)
        logits = self._logits_buffer(scored) if self.io.logits_last_only else None
        if logits is not None:
            binding.bind_ortvalue_output(self.io.logits, ort.OrtValue.ortvalue_from_numpy(logits))
        else:
            binding.bind_output(self.io.logits, "cpu")
        self.session.run_with_iobinding(binding)
        self.tokens += new_ids
        if logits is None:
            logits = binding.get_outputs()[-1].numpy()
        return logits[0, -scored:].astype(np.float32)

    def _logits_buffer(self, scored: int) -> np.ndarray:
        if scored not in self._logits:
            self._logits[scored] = np.empty((1, scored, self.arch.vocab_size),
                                            dtype=self._logits_dtype)
        return self._logits[scored]

    def close(self) -> None:
        self._buffers, self._host, self.tokens = [], [], []


class PlainKv:
    """The graph's own contract: past arrays in, present arrays (a full copy) out."""

    multi_logits = False  # its graph is not rewritten: the last position only

    def __init__(self, session: ort.InferenceSession, io: GraphIO, arch: Architecture,
                 dtype: type) -> None:
        self.session = session
        self.io = io
        self.arch = arch
        self.dtype = dtype
        self.tokens: list[int] = []
        self._arrays: dict[str, np.ndarray] = {}
        self._outputs = [io.logits]
        for layer in range(arch.num_layers):
            self._outputs += [io.present_key.format(layer=layer),
                              io.present_value.format(layer=layer)]
        self.keep(0)

    def keep(self, length: int) -> None:
        del self.tokens[length:]
        shape = (1, self.arch.num_kv_heads, 0, self.arch.head_dim)
        for layer in range(self.arch.num_layers):
            for name in (self.io.past_key, self.io.past_value):
                key = name.format(layer=layer)
                old = self._arrays.get(key)
                self._arrays[key] = (old[:, :, :length] if old is not None and length
                                     else np.zeros(shape, self.dtype))

    def forward(self, new_ids: Sequence[int]) -> np.ndarray:
        start = len(self.tokens)
        feed = {self.io.input_ids: np.asarray([new_ids], dtype=np.int64), **self._arrays}
        if self.io.position_ids:
            feed[self.io.position_ids] = _positions(start, len(new_ids))
        outputs = self.session.run(self._outputs, feed)
        for i in range(self.arch.num_layers):
            self._arrays[self.io.past_key.format(layer=i)] = outputs[1 + 2 * i]
            self._arrays[self.io.past_value.format(layer=i)] = outputs[2 + 2 * i]
        self.tokens += new_ids
        return outputs[0][0, -1]

    def close(self) -> None:
        self._arrays, self.tokens = {}, []
