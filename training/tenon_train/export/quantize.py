"""Weight quantization of the fp32 decode graph, for CPU serving.

- ``int8``: ONNX Runtime dynamic quantization, int8 weights per output channel
  (MatMulInteger). On the 2-core machines here it prefilled about 2x faster than 4-bit
  weight-only and decoded nearly as fast, at a small quality cost: the default.
- ``q4`` / ``q8``: ONNX Runtime's weight-only MatMulNBits (block 32, asymmetric), the
  embedding gather in 4 bits. Decodes fastest, prefills slower on this CPU.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)
METHODS = ("int8", "q4", "q8")


def quantize(src: Path, dst: Path, method: str) -> None:
    from tenon_train.export.onnx_export import quiet_exporter

    with quiet_exporter():
        _quantize(src, dst, method)


def _quantize(src: Path, dst: Path, method: str) -> None:
    if method == "int8":
        _dynamic_int8(src, dst)
    elif method in ("q4", "q8"):
        _matmul_nbits(src, dst, bits=4 if method == "q4" else 8)
    else:
        raise ValueError(f"unknown quantization {method!r}: use one of {', '.join(METHODS)}")


def _dynamic_int8(src: Path, dst: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True,
        use_external_data_format=True, extra_options={"MatMulConstBOnly": True},
    )


def _matmul_nbits(src: Path, dst: Path, bits: int) -> None:
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    model = onnx.load(str(src))
    quantizer = MatMulNBitsQuantizer(
        model, bits=bits, block_size=32, is_symmetric=False, accuracy_level=4,
        op_types_to_quantize=("MatMul", "Gather") if bits == 4 else ("MatMul",),
    )
    quantizer.process()
    onnx.save_model(quantizer.model.model, str(dst), save_as_external_data=True,
                    location=f"{dst.name}.data", all_tensors_to_one_file=True)
