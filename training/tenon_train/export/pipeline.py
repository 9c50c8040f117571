"""`tenon-train export`: causal LM → ONNX → parity → quantization → bundle.

The bundle is assembled in ``<output>.partial`` and renamed into place when complete; its
``manifest.json`` is written last, so a crash at any point leaves no half-bundle that the
server would accept.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from tenon import prompt_format
from tenon.bundle import (
    SCHEMA_VERSION,
    Architecture,
    Bundle,
    GraphVariant,
    Manifest,
    PromptFormat,
    file_facts,
)
from tenon.tokenizer import TextCodec
from tenon_train.export.onnx_export import export_decoder, graph_io
from tenon_train.export.parity import ParityReport, check_parity
from tenon_train.export.quantize import quantize
from tenon_train.export.vocabulary import vocabulary_facts
from tenon_train.progress import Stages

log = logging.getLogger(__name__)
FP32_TOLERANCE = 1e-2  # max |logit difference| accepted between torch and the fp32 graph


class ExportError(Exception):
    """The export failed a check; nothing was published."""


@dataclass(frozen=True)
class ExportConfig:
    output: Path
    name: str
    quantize: str = "int8"  # "int8", "q4", "q8" or "none"
    keep_fp32: bool = True  # keep the fp32 graph for GPU serving
    parity_tokens: int = 24
    progress: bool = True
    provenance: dict[str, Any] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)


def architecture_of(config: Any, num_layers: int) -> Architecture:
    heads = getattr(config, "num_attention_heads", None) or config.n_head
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    hidden = getattr(config, "hidden_size", None) or config.n_embd
    head_dim = getattr(config, "head_dim", None) or hidden // heads
    positions = getattr(config, "max_position_embeddings", None) or config.n_positions
    return Architecture(config.model_type, num_layers, kv_heads, head_dim, config.vocab_size,
                        positions)


def _variants(method: str, keep_fp32: bool) -> dict[str, GraphVariant]:
    if method == "none":
        return {"fp32": GraphVariant("decoder.fp32.onnx", "float32", None, ("cpu", "cuda"))}
    variants = {method: GraphVariant(f"decoder.{method}.onnx", "float32", method, ("cpu",))}
    if keep_fp32:
        variants["fp32"] = GraphVariant("decoder.fp32.onnx", "float32", None, ("cuda",))
    return variants


def _manifest(cfg: ExportConfig, model: Any, work: Path, graphs: dict[str, GraphVariant],
              parity: dict[str, Any], with_files: bool = True) -> Manifest:
    io, layers = graph_io(work / "decoder.fp32.onnx" if (work / "decoder.fp32.onnx").exists()
                          else work / next(iter(graphs.values())).file)
    vocabulary = vocabulary_facts(work / "tokenizer.json", model.config, model.generation_config)
    files = [p.name for p in work.iterdir() if p.is_file() and p.name != "manifest.json"]
    return Manifest(
        schema_version=SCHEMA_VERSION,
        name=cfg.name,
        architecture=architecture_of(model.config, layers),
        io=io,
        graphs=graphs,
        vocabulary=vocabulary,
        prompt_format=PromptFormat(prompt_format.PROMPT_FORMAT_NAME,
                                   prompt_format.PROMPT_FORMAT_VERSION),
        files=file_facts(work, files) if with_files else {},
        provenance=_provenance(cfg),
        parity=parity,
        evaluation=cfg.evaluation,
    )


def _provenance(cfg: ExportConfig) -> dict[str, Any]:
    import onnxruntime
    import transformers

    return {
        **cfg.provenance,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "exporter": f"transformers {transformers.__version__} OnnxExporter (decode graph, "
                    "logits_to_keep=1, ort_fusions=cpu)",
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
    }


def _parity(model: Any, work: Path, cfg: ExportConfig, graphs: dict[str, GraphVariant],
            variant: str) -> ParityReport:
    manifest = _manifest(cfg, model, work, graphs, {}, with_files=False)
    codec = TextCodec.load(work / "tokenizer.json", manifest.vocabulary)
    return check_parity(model, Bundle(work, manifest), variant, codec.encode, cfg.parity_tokens)


def export_model(model: Any, tokenizer_file: Path, cfg: ExportConfig) -> Path:
    """Export ``model`` (a transformers causal LM) and its tokenizer into a bundle."""
    model = model.float().eval()
    work = cfg.output.with_name(cfg.output.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copyfile(tokenizer_file, work / "tokenizer.json")
    stages = Stages(f"export {cfg.name}", 4 if cfg.quantize != "none" else 3, cfg.progress)
    fp32 = {"fp32": GraphVariant("decoder.fp32.onnx", "float32", None, ("cpu", "cuda"))}
    with stages.step("export ONNX"):
        codec_ids = TextCodec.load(work / "tokenizer.json", vocabulary_facts(
            work / "tokenizer.json", model.config, model.generation_config)).encode
        export_decoder(model, codec_ids("def main():\n    return 1\n"), work / "decoder.fp32.onnx")
    with stages.step("parity fp32 vs torch"):
        report = _parity(model, work, cfg, fp32, "fp32")
        _require_parity(report)
    parity = {"fp32": report.to_dict(), "tolerance": FP32_TOLERANCE}
    graphs = _variants(cfg.quantize, cfg.keep_fp32)
    if cfg.quantize != "none":
        with stages.step(f"quantize {cfg.quantize}"):
            quantize(work / "decoder.fp32.onnx", work / f"decoder.{cfg.quantize}.onnx",
                     cfg.quantize)
        with stages.step(f"quality of {cfg.quantize} vs torch"):
            parity[cfg.quantize] = _parity(model, work, cfg, graphs, cfg.quantize).to_dict()
        if not cfg.keep_fp32:
            for name in ("decoder.fp32.onnx", "decoder.fp32.onnx.data"):
                (work / name).unlink(missing_ok=True)
    with stages.step("write manifest"):
        manifest = _manifest(cfg, model, work, graphs, parity)
        (work / "manifest.json").write_text(manifest.to_json() + "\n", encoding="utf-8")
    stages.close()
    return _move_into_place(work, cfg.output)


def _require_parity(report: ParityReport) -> None:
    if report.greedy_equal != report.prompts or report.max_abs_logit_diff > FP32_TOLERANCE:
        raise ExportError(
            f"the ONNX graph does not match torch: greedy tokens equal on "
            f"{report.greedy_equal}/{report.prompts} prompts, max logit difference "
            f"{report.max_abs_logit_diff:.3g} (tolerance {FP32_TOLERANCE}). Not published."
        )


def _move_into_place(work: Path, output: Path) -> Path:
    if output.exists():
        shutil.rmtree(output)
    work.rename(output)
    log.info("bundle written to %s", output)
    return output


def summary(bundle_dir: Path) -> str:
    data = json.loads((bundle_dir / "manifest.json").read_text())
    parity = {k: v for k, v in data["parity"].items() if isinstance(v, dict)}
    lines = [f"bundle {data['name']} at {bundle_dir}"]
    for name, report in parity.items():
        lines.append(
            f"  {name}: greedy equal {report['greedy_equal']}/{report['prompts']}, "
            f"next-token agreement {report['next_token_agreement']:.3f}, "
            f"max logit diff {report['max_abs_logit_diff']:.3g}"
        )
    return "\n".join(lines)


def config_dict(cfg: ExportConfig) -> dict[str, Any]:
    data = asdict(cfg)
    data["output"] = str(cfg.output)
    return data
