"""Causal LM → ONNX decode graph → parity check → quantization → model bundle."""
