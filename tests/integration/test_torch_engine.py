"""The torch engine has the server engine's behaviour: same tokens as transformers greedy,
batched or not, and the same completions as the ONNX engine through the server pipeline."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tenon.completion import complete
from tenon.context.snapshot import Snapshot
from tenon.inference.engine import CancelToken, SamplingParams
from tenon.inference.onnx_engine import EngineOptions, OnnxEngine
from tenon.model import LoadedModel
from tenon.settings import Settings
from tenon.tokenizer import TextCodec
from tenon_train.evaluation.served import wrap_torch
from tenon_train.evaluation.torch_engine import TorchEngine, TorchEngineOptions
from tenon_train.export.parity import torch_greedy

PROMPTS = ["def add(a, b):", "class Stack:\n    def push(self, item):", "def is_even(n):",
           "import os", "def fibonacci(n):"]
DOCUMENTS = [
    'def add(a, b):\n    """Return the sum of a and b."""\n    ',
    "def read_port(path):\n    # read the config file and return the port as an int\n    ",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n"
    "        ",
    "def is_even(n):\n    return n % 2 == 0\n\n\ndef fibonacci(n):\n    ",
]


@pytest.fixture(scope="module")
def codec(tiny_qwen):
    from tenon.bundle import load_bundle

    bundle = load_bundle(tiny_qwen.path)
    return TextCodec.load(bundle.file("tokenizer.json"), bundle.manifest.vocabulary), bundle


def eos_of(bundle):
    vocabulary = bundle.manifest.vocabulary
    return [*vocabulary.eos_ids, *vocabulary.stop_ids]


def test_greedy_tokens_equal_transformers_generate(tiny_qwen, codec):
    text_codec, bundle = codec
    engine = TorchEngine(tiny_qwen.model, eos_of(bundle), TorchEngineOptions())
    for prompt in PROMPTS:
        ids = text_codec.encode(prompt)
        ours = engine.generate(ids, SamplingParams(24), lambda _ids: False, CancelToken())
        assert ours.token_ids == torch_greedy(tiny_qwen.model, ids, 24, set(eos_of(bundle)))


def test_batched_generation_gives_each_caller_its_own_tokens(tiny_qwen, codec):
    text_codec, bundle = codec
    single = TorchEngine(tiny_qwen.model, eos_of(bundle), TorchEngineOptions())
    batched = TorchEngine(tiny_qwen.model, eos_of(bundle), TorchEngineOptions(max_batch=4))

    def run(engine, i, limit=None):
        ids = text_codec.encode(PROMPTS[i])
        return engine.generate(ids, SamplingParams(20 + i),
                               lambda t: limit is not None and len(t) >= limit, CancelToken())

    free = [run(single, i) for i in range(len(PROMPTS))]
    # per-request stop checks that fire halfway through some of the generations
    limits = {i: len(r.token_ids) // 2 for i, r in enumerate(free)
              if len(r.token_ids) >= 2 and i % 2 == 0}
    assert len(limits) >= 2
    expected = [run(single, i, limits.get(i)) for i in range(len(PROMPTS))]
    with ThreadPoolExecutor(len(PROMPTS)) as pool:
        got = list(pool.map(lambda i: run(batched, i, limits.get(i)), range(len(PROMPTS))))
    batched.close()
    assert [r.token_ids for r in got] == [r.token_ids for r in expected]
    assert [r.finish_reason for r in got] == [r.finish_reason for r in expected]
    reasons = {r.finish_reason for r in got}
    assert "stop" in reasons and len(reasons) >= 2
    assert batched.stats.forward_calls < single.stats.forward_calls


def test_a_cancelled_request_generates_nothing(tiny_qwen, codec):
    text_codec, bundle = codec
    engine = TorchEngine(tiny_qwen.model, eos_of(bundle), TorchEngineOptions())
    cancel = CancelToken()
    cancel.cancel()
    result = engine.generate(text_codec.encode("def add(a, b):"), SamplingParams(8),
                             lambda _ids: False, cancel)
    assert result.finish_reason == "cancelled" and result.token_ids == []


def test_server_pipeline_gives_the_same_completions_on_torch_and_onnx(tiny_qwen, codec, tmp_path):
    text_codec, bundle = codec
    onnx = LoadedModel(bundle, text_codec, OnnxEngine(bundle, EngineOptions(device="cpu",
                                                                             graph="fp32")), 0)
    served = wrap_torch(tiny_qwen.model, bundle.file("tokenizer.json"),
                        TorchEngineOptions(max_batch=2), tmp_path)
    settings = Settings()
    for i, text in enumerate(DOCUMENTS):
        snapshot = Snapshot(f"file:///t{i}.py", 1, "python", text, len(text))
        ours = complete(snapshot, settings, served, CancelToken())
        theirs = complete(snapshot, settings, onnx, CancelToken())
        assert (ours.text, ours.mode) == (theirs.text, theirs.mode)
        assert ours.result.token_ids == theirs.result.token_ids
    served.close()
