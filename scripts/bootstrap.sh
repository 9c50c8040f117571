#!/usr/bin/env bash
# Create the virtual environment and install Tenon with its training and test extras.
#
# torch: a local CPU wheel of torch 2.13 when the machine has one (fast, offline); the
# default (CUDA) build from PyPI when an NVIDIA GPU is present; otherwise PyTorch's CPU
# index, so CPU-only machines do not download several GB of CUDA libraries.
# GPU=1 serves with onnxruntime-gpu instead of onnxruntime (never both in one environment).
set -euo pipefail
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
GPU=${GPU:-0}

if [ ! -x "$VENV/bin/python" ]; then
  echo "creating $VENV with $($PYTHON --version)" >&2
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip)
"${PIP[@]}" install -q --upgrade pip wheel setuptools

if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  if ls /opt/wheels/torch-2.13.0+cpu-*.whl >/dev/null 2>&1; then
    "${PIP[@]}" install "torch==2.13.0"
  elif command -v nvidia-smi >/dev/null 2>&1; then
    "${PIP[@]}" install "torch>=2.4"
  else
    "${PIP[@]}" install "torch>=2.4" --index-url https://download.pytorch.org/whl/cpu \
      || "${PIP[@]}" install "torch>=2.4"
  fi
fi

"${PIP[@]}" install -e ".[train,dev]"
if [ "$GPU" = "1" ]; then
  "${PIP[@]}" uninstall -y onnxruntime
  "${PIP[@]}" install "onnxruntime-gpu[cuda,cudnn]>=1.20"
fi
"$VENV/bin/python" -c "import tenon, tenon_train, onnxruntime as o; print('tenon ready:', o.get_available_providers())"
