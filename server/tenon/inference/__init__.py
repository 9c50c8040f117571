"""Inference: the engine protocol, the ONNX Runtime engine and the request runner."""
