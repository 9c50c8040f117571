"""Export tiny Qwen2, Llama and GPT-2 models: the ONNX engine's greedy tokens equal torch's."""

import json

import pytest

from tenon.bundle import load_bundle
from tenon.inference.engine import CancelToken, SamplingParams
from tenon.inference.onnx_engine import EngineOptions, OnnxEngine
from tenon.tokenizer import TextCodec
from tenon_train.export.parity import PARITY_PROMPTS, torch_greedy
from tests.support.tiny import build_tiny_bundle


@pytest.mark.parametrize(("family", "with_fim"), [("qwen2", True), ("llama", True),
                                                   ("gpt2", False)])
def test_greedy_tokens_equal_torch(family, with_fim, tmp_path):
    path, model, _ = build_tiny_bundle(family, tmp_path, trained=False, with_fim=with_fim)
    bundle = load_bundle(path)
    manifest = bundle.manifest
    assert manifest.architecture.family == family
    assert (manifest.vocabulary.fim is not None) == with_fim
    report = manifest.parity["fp32"]
    assert report["greedy_equal"] == report["prompts"] == len(PARITY_PROMPTS)
    assert report["max_abs_logit_diff"] < manifest.parity["tolerance"]
    # and independently of the recorded report: our own prompts, 32 tokens each
    codec = TextCodec.load(bundle.file("tokenizer.json"), manifest.vocabulary)
    engine = OnnxEngine(bundle, EngineOptions(device="cpu"))
    eos = set(manifest.vocabulary.eos_ids) | set(manifest.vocabulary.stop_ids)
    for prompt in ("def add(a, b):\n", "class Stack:\n    def pop(self):\n", "x = [1, 2,"):
        ids = codec.encode(prompt)
        ours = engine.generate(ids, SamplingParams(32), lambda _ids: False, CancelToken())
        assert ours.token_ids == torch_greedy(model, ids, 32, eos)


def test_manifest_is_complete_json(tiny_qwen):
    data = json.loads((tiny_qwen.path / "manifest.json").read_text())
    for key in ("schema_version", "architecture", "io", "graphs", "vocabulary", "prompt_format",
                "files", "provenance", "parity", "evaluation"):
        assert key in data
    assert data["graphs"]["int8"]["devices"] == ["cpu"]
    assert data["graphs"]["fp32"]["devices"] == ["cuda"]
    assert all(len(f["sha256"]) == 64 for f in data["files"].values())
    assert data["parity"]["int8"]["next_token_agreement"] > 0.8


def test_partial_export_leaves_no_bundle(tmp_path, monkeypatch):
    from tenon_train.export import pipeline

    def boom(*_args, **_kwargs):
        raise RuntimeError("quantizer crashed")

    monkeypatch.setattr(pipeline, "quantize", boom)
    with pytest.raises(RuntimeError, match="quantizer crashed"):
        build_tiny_bundle("qwen2", tmp_path, trained=False, quantize="int8")
    assert not (tmp_path / "bundle").exists()
    assert not (tmp_path / "bundle.partial" / "manifest.json").exists()
