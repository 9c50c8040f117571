"""Prefill and decode speed: ONNX Runtime graphs against transformers ``generate``, one run.

The same prompts (real code, cut to exactly N tokens by the bundle's tokenizer) go to every
backend; greedy decoding; each backend's tokens are compared with torch's. The backends
take turns on every repetition, so load from other jobs on this shared machine falls on all
of them alike and the ratios stay meaningful.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.positions import stdlib_files
from tenon.bundle import Bundle
from tenon.inference.engine import CancelToken, SamplingParams
from tenon.inference.kv_slots import common_prefix
from tenon.inference.onnx_engine import EngineOptions, OnnxEngine

NEVER = lambda _ids: False  # noqa: E731


@dataclass
class Timing:
    prefill_ms: list[float] = field(default_factory=list)
    decode_ms_per_token: list[float] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "prefill_ms": round(statistics.median(self.prefill_ms), 1),
            "prefill_ms_all": [round(v, 1) for v in self.prefill_ms],
            "decode_ms_per_token": round(statistics.median(self.decode_ms_per_token), 2),
            "decode_ms_all": [round(v, 2) for v in self.decode_ms_per_token],
            "tokens_generated": len(self.tokens),
        }


def code_prompt(encode: Callable[[str], list[int]], length: int) -> list[int]:
    """Exactly ``length`` tokens of real Python (standard library files, in a fixed order)."""
    ids: list[int] = []
    for file in stdlib_files():
        ids += encode(file.read_text(encoding="utf-8"))
        if len(ids) >= length:
            return ids[:length]
    raise ValueError(f"not enough code for a {length}-token prompt")


DRAFTED = "+draft"  # the label of the backend that drafts from the context (the server's way)
# The engine as it was before the engine work of issue 6: the KV cache copied on every step
# (past arrays in, present arrays out), the prompt in one pass.
BEFORE = {"kv_in_place": False, "prefill_chunk": 1 << 20, "warm_up": False,
          "optimized_cache": False}


class OrtBackend:
    def __init__(self, bundle: Bundle, graph: str, threads: int, label: str = "",
                 device: str = "cpu", draft_tokens: int = 0, **options: Any) -> None:
        started = time.perf_counter()
        self.engine = OnnxEngine(bundle, EngineOptions(device=device, threads=threads,
                                                       reuse_prefix=False, graph=graph,
                                                       **options))
        self.load_s = time.perf_counter() - started
        self.name = f"ort-{graph}{label}"
        self.provider = self.engine.provider
        self.draft_tokens = draft_tokens

    def run(self, ids: list[int], new_tokens: int) -> tuple[float, float, list[int]]:
        params = SamplingParams(new_tokens, draft_tokens=self.draft_tokens)
        result = self.engine.generate(ids, params, NEVER, CancelToken())
        steps = max(len(result.token_ids) - 1, 1)
        return result.prompt_ms, result.decode_ms / steps, result.token_ids

    def close(self) -> None:
        self.engine.close()


class TorchBackend:
    """transformers ``generate`` (greedy, KV cache); a logits processor timestamps steps."""

    def __init__(self, source: Path, threads: int, eos_ids: tuple[int, ...],
                 device: str = "cpu") -> None:
        import torch
        from transformers import AutoModelForCausalLM

        torch.set_num_threads(threads)
        started = time.perf_counter()
        dtype = torch.float16 if device == "cuda" else torch.float32
        self.model = AutoModelForCausalLM.from_pretrained(str(source), dtype=dtype).to(device)
        self.model.eval()
        self.load_s = time.perf_counter() - started
        self.eos_ids = list(eos_ids)
        self.device = device
        self.name = "torch-fp16" if device == "cuda" else "torch-fp32"
        self.provider = f"torch {device}"

    def run(self, ids: list[int], new_tokens: int) -> tuple[float, float, list[int]]:
        import torch

        stamps: list[float] = []

        def clock(_input_ids, scores):
            if self.device == "cuda":
                torch.cuda.synchronize()
            stamps.append(time.perf_counter())
            return scores

        with torch.inference_mode():
            started = time.perf_counter()
            out = self.model.generate(
                torch.tensor([ids], device=self.device), max_new_tokens=new_tokens,
                do_sample=False, logits_processor=[clock], eos_token_id=self.eos_ids,
                pad_token_id=self.eos_ids[0],
                attention_mask=torch.ones(1, len(ids), dtype=torch.long, device=self.device))
        tokens = out[0, len(ids):].tolist()
        while tokens and tokens[-1] in self.eos_ids:
            tokens.pop()
        prefill = (stamps[0] - started) * 1000
        decode = (stamps[-1] - stamps[0]) * 1000 / max(len(stamps) - 1, 1)
        return prefill, decode, tokens

    def close(self) -> None:
        del self.model
        gc.collect()


def measure(
    backends: list[Any], prompts: dict[int, list[int]], new_tokens: int, repeats: int,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run every backend on every prompt ``repeats`` times, backends interleaved."""
    results: dict[str, dict[int, Timing]] = {b.name: {n: Timing() for n in prompts}
                                               for b in backends}
    warm = next(iter(prompts.values()))[:32]
    for backend in backends:
        backend.run(warm, 2)
    for length, ids in prompts.items():
        for rep in range(repeats):
            order = backends if rep % 2 == 0 else backends[::-1]
            for backend in order:
                prefill, decode, tokens = backend.run(ids, new_tokens)
                timing = results[backend.name][length]
                timing.prefill_ms.append(prefill)
                timing.decode_ms_per_token.append(decode)
                timing.tokens = tokens
                log(f"  {backend.name:>10} {length:>5} tokens: prefill {prefill:8.0f} ms, "
                    f"decode {decode:6.1f} ms/token ({len(tokens)} tokens)")
    table: dict[str, Any] = {}
    reference = results.get("torch-fp32") or results.get("torch-fp16")
    for name, per_length in results.items():
        table[name] = {}
        for length, timing in per_length.items():
            row = timing.summary()
            if reference is not None:
                ref = reference[length].tokens
                row["same_tokens_as_torch"] = f"{common_prefix(timing.tokens, ref)}/{len(ref)}"
            table[name][str(length)] = row
    return table


def ratios(table: dict[str, Any]) -> dict[str, Any]:
    """Speed-up of every backend over transformers (>1: faster), per prompt length."""
    out: dict[str, Any] = {}
    baseline = "torch-fp32" if "torch-fp32" in table else "torch-fp16"
    if baseline not in table:
        return out
    for name, per_length in table.items():
        if name == baseline:
            continue
        out[name] = {}
        for length, row in per_length.items():
            base = table[baseline][length]
            out[name][length] = {
                "prefill_speedup": round(base["prefill_ms"] / row["prefill_ms"], 2),
                "decode_speedup": round(base["decode_ms_per_token"] / row["decode_ms_per_token"],
                                        2),
            }
    return out
