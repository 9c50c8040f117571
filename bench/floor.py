"""The physical floor of a decode step: bytes that must be read / memory bandwidth.

A decode step of a 0.5B model reads every weight matrix once (and the KV cache of the
context); with one sequence there is no reuse across tokens, so on a CPU the step cannot be
faster than those bytes divided by the memory bandwidth. Both are measured here: the bytes
from the ONNX graph itself (each initializer's stored size; an embedding table read by
``Gather`` counts one row per token), the bandwidth on this machine, in the same run.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

GATHER_OPS = ("Gather", "GatherBlockQuantized")


def _tensor_bytes(tensor: onnx.TensorProto) -> int:
    for entry in tensor.external_data:
        if entry.key == "length":
            return int(entry.value)
    if tensor.raw_data:
        return len(tensor.raw_data)
    return numpy_helper.to_array(tensor).nbytes


def weight_bytes_per_token(onnx_path: Path) -> dict[str, int]:
    """Bytes of initializers read per decode step; tables read by Gather count one row."""
    model = onnx.load(str(onnx_path), load_external_data=False)
    graph = model.graph
    sizes = {t.name: (_tensor_bytes(t), list(t.dims)) for t in graph.initializer}
    consumers: dict[str, set[str]] = {}
    for node in graph.node:
        for position, name in enumerate(node.input):
            if name in sizes:
                role = node.op_type if node.op_type in GATHER_OPS and position == 0 else "read"
                consumers.setdefault(name, set()).add(role)
    total = gathered = 0
    for name, (size, dims) in sizes.items():
        if consumers.get(name, {"read"}) <= set(GATHER_OPS) and dims:
            gathered += size
            total += size // max(dims[0], 1)  # one row per token
        else:
            total += size
    return {"weight_bytes_per_token": total, "gather_table_bytes": gathered,
            "all_initializer_bytes": sum(size for size, _ in sizes.values())}


def kv_bytes(layers: int, kv_heads: int, head_dim: int, context: int, itemsize: int = 4) -> int:
    """Bytes of the KV cache read by one decode step at ``context`` tokens."""
    return 2 * layers * kv_heads * head_dim * context * itemsize


def _best_of(repeats: int, run) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def memory_bandwidth(threads: int = 2, mib: int = 1024, repeats: int = 5) -> dict[str, float]:
    """Read and copy bandwidth in GB/s over ``mib`` MiB (far larger than the caches).

    numpy releases the GIL inside its loops, so ``threads`` Python threads each stream over
    their own slice. Two kernels: a sum of float32 (read only) and a copy (read + write,
    both counted). The floor uses the higher read figure, so it is a lower bound on time.
    """
    data = np.ones(mib * 2**20 // 4, dtype=np.float32)
    dest = np.empty_like(data)
    parts = np.array_split(np.arange(data.size), threads)
    slices = [slice(int(p[0]), int(p[-1]) + 1) for p in parts]
    with ThreadPoolExecutor(threads) as pool:
        def read():
            list(pool.map(lambda s: float(data[s].sum(dtype=np.float32)), slices))

        def max_read():
            list(pool.map(lambda s: float(data[s].max()), slices))

        def copy():
            list(pool.map(lambda s: np.copyto(dest[s], data[s]), slices))

        read(), copy()  # touch the pages
        gb = data.nbytes / 1e9
        sum_gbs = gb / _best_of(repeats, read)
        max_gbs = gb / _best_of(repeats, max_read)
        copy_gbs = 2 * gb / _best_of(repeats, copy)
    return {"read_sum_gbs": round(sum_gbs, 2), "read_max_gbs": round(max_gbs, 2),
            "copy_gbs": round(copy_gbs, 2), "threads": threads, "mib": mib,
            "best_read_gbs": round(max(sum_gbs, max_gbs), 2)}


def gpu_bandwidth(gib: int = 4, repeats: int = 10) -> dict[str, float]:
    """Device memory bandwidth (GB/s) with torch: a read-only sum and a device-to-device copy."""
    import torch

    data = torch.ones(gib * 2**30 // 2, dtype=torch.float16, device="cuda")
    dest = torch.empty_like(data)
    gb = data.numel() * 2 / 1e9

    def best(run) -> float:
        run()
        torch.cuda.synchronize()
        times = []
        for _ in range(repeats):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            run()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end) / 1000)
        return min(times)

    read = gb / best(lambda: data.sum(dtype=torch.float32))
    copy = 2 * gb / best(lambda: dest.copy_(data))
    return {"read_sum_gbs": round(read, 1), "copy_gbs": round(copy, 1), "threads": 0,
            "mib": gib * 1024, "device": torch.cuda.get_device_name(),
            "best_read_gbs": round(max(read, copy / 2), 1)}


def floor_ms(bytes_per_step: int, bandwidth_gbs: float) -> float:
    return bytes_per_step / (bandwidth_gbs * 1e9) * 1000
