"""Check an exported graph against the torch model it came from, through the server's engine.

For each prompt: the logits of the first next token (max absolute difference), and the
greedy tokens of ``transformers`` ``generate`` against the ONNX engine's. A quantized graph
is not expected to match exactly; for it we record how often its greedy next token agrees
with torch's along torch's own continuation (teacher-forced), the measure of quality cost.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from tenon.bundle import Bundle
from tenon.inference.engine import CancelToken, SamplingParams
from tenon.inference.onnx_engine import EngineOptions, OnnxEngine

PARITY_PROMPTS = (
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "import os\n\n# read the config file and return the port as an int\ndef read_port(path):\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n",
    "# 计算斐波那契数列的第n项\ndef fib(n):\n",
    "def is_palindrome(text: str) -> bool:\n"
    "    cleaned = [c.lower() for c in text if c.isalnum()]\n",
)


@dataclass(frozen=True)
class ParityReport:
    variant: str
    prompts: int
    new_tokens: int
    greedy_equal: int
    max_abs_logit_diff: float
    next_token_agreement: float

    def to_dict(self) -> dict:
        return asdict(self)


def torch_greedy(model, ids: list[int], new_tokens: int, eos: set[int]) -> list[int]:
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), max_new_tokens=new_tokens, do_sample=False,
                             attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                             pad_token_id=next(iter(eos)))
    generated = out[0, len(ids):].tolist()
    for i, token in enumerate(generated):
        if token in eos:
            return generated[:i]
    return generated


def torch_logits(model, ids: list[int]) -> np.ndarray:
    """Logits at every position of ``ids`` (for teacher-forced agreement)."""
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].float().numpy()


def engine_logits(engine: OnnxEngine, ids: list[int]) -> np.ndarray:
    """The engine's next-token logits after the prompt (fresh cache)."""
    engine.reset()
    return engine.feed(ids)


def teacher_forced_agreement(engine: OnnxEngine, ids: list[int], expected: np.ndarray) -> int:
    """How many positions of ``ids`` the engine predicts the same argmax as ``expected``."""
    engine.reset()
    agree = 0
    for i, token in enumerate(ids):
        logits = engine.feed([token])
        agree += int(np.argmax(logits) == np.argmax(expected[i]))
    return agree


def check_parity(model, bundle: Bundle, variant: str, encode, new_tokens: int = 24) -> ParityReport:
    engine = OnnxEngine(bundle, EngineOptions(device="cpu", reuse_prefix=False, graph=variant))
    eos = set(bundle.manifest.vocabulary.eos_ids) | set(bundle.manifest.vocabulary.stop_ids)
    equal, worst, agree, total = 0, 0.0, 0, 0
    for prompt in PARITY_PROMPTS:
        ids = encode(prompt)
        expected = torch_greedy(model, ids, new_tokens, eos)
        result = engine.generate(ids, SamplingParams(new_tokens), lambda _ids: False,
                                 CancelToken())
        equal += int(result.token_ids == expected)
        full = ids + expected
        reference = torch_logits(model, full)
        diff = np.abs(engine_logits(engine, ids) - reference[len(ids) - 1])
        worst = max(worst, float(np.max(diff)))
        agree += teacher_forced_agreement(engine, full, reference)
        total += len(full)
    return ParityReport(variant, len(PARITY_PROMPTS), new_tokens, equal, worst, agree / total)
