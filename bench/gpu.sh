#!/usr/bin/env bash
# The benchmark on a GPU: ONNX Runtime's CUDA execution provider, fp16 graph, KV cache in
# device buffers bound with IO binding, against transformers `generate` in fp16 on the same
# GPU; the floor from the GPU's measured memory bandwidth.
#
# NOT RUN YET: the task that wrote this script had no GPU (2-core CPU machine). Every step
# was exercised on the CPU where it could be (fp16 conversion, fp16 in-place KV, the
# placement check, the bench itself); the CUDA paths themselves are untested.
#
# Needs: a machine with an NVIDIA GPU and a Python environment with `onnxruntime-gpu`
# (NOT the CPU `onnxruntime` in the same environment: they overwrite each other) and its
# CUDA/cuDNN libraries, `onnx`, and for the transformers comparison torch with CUDA:
# `GPU=1 scripts/bootstrap.sh` makes one (`VENV=.venv-gpu GPU=1 scripts/bootstrap.sh` to
# keep a CPU .venv). The benchmark itself uses no network: the default bundle (with its
# fp32 graph) and its fp32 checkpoint must be under $TENON_HOME (default ~/.cache/tenon),
# from `make bundle` or copied from a machine that ran it.
#
# Usage:  make bench-gpu BENCH_ARGS=--quick
#         PY=.venv-gpu/bin/python bench/gpu.sh [--quick] [other `python -m bench` flags]
# Time:   about 2 min for the fp16 conversion (once, cached), then ~3 min (--quick: ~1 min).
# Output: bench/results/<date>-<host>-cuda.{json,md}, and the provider that actually ran.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export PYTHONPATH="$PWD/server:$PWD/training:$PWD${PYTHONPATH:+:$PYTHONPATH}"

echo "== GPU"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
"$PY" - <<'EOF'
import onnxruntime as ort
providers = ort.get_available_providers()
print(f"onnxruntime {ort.__version__}: {providers}")
if "CUDAExecutionProvider" not in providers:
    raise SystemExit("this onnxruntime has no CUDA execution provider: install onnxruntime-gpu")
EOF

echo "== fp16 bundle (converted once from the bundle's fp32 graph, cached under \$TENON_HOME/bench)"
FP16=$("$PY" -m bench.fp16 ${BUNDLE:+--bundle "$BUNDLE"})
echo "$FP16"

echo "== which provider runs each node (profiled prompt + decode steps)"
"$PY" -m bench.gpu_check --bundle "$FP16"

echo "== benchmark (CUDA)"
"$PY" -m bench --device cuda --bundle "$FP16" "$@"
