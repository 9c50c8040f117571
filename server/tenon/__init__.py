"""Tenon: a code-completion language server that writes Python from comments and docstrings."""

import os

# ONNX Runtime 1.32 for Linux ships Microsoft's 1DS telemetry: on first use it writes a
# device id and queues events (process and OS information) under
# ~/.cache/Microsoft/DeveloperTools/.onnxruntime/ for upload to
# mobile.events.data.microsoft.com. Nothing leaves the user's machine, so it is switched
# off before onnxruntime is first imported (the variable is read at import;
# onnxruntime.disable_telemetry_events() comes too late to stop the files).
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

__version__ = "0.1.0"
