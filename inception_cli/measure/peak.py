"""What the device can do at best and what a run used of it: the peak FLOP/s (measured with
square matrix products, or a GPU's datasheet figure) and the peak memory, read after waiting for
the device to finish its queued work. `inception bench` and training's `perf/mfu` divide by the
same peak."""

from __future__ import annotations

import functools
import re
import resource
import sys
import time
from collections.abc import Iterable

import torch

# The CPU's best rate shows at a size that depends on its caches and kernels (bf16 on AMX peaks
# on small products, float32 on large ones): every size up to 8192 that the budget allows.
CPU_SIZES = (512, 1024, 2048, 4096, 8192)
GPU_SIZE = 8192
PEAK_SECONDS = 2.0  # `inception bench`'s default budget, and training's

# Dense (not sparse) tensor-core peaks from NVIDIA's datasheets, in TFLOP/s; "tf32" is what
# float32 matmuls run at when torch allows TF32 (training does on GPUs: environment.py).
# First match wins: the more specific names come first.
GPU_PEAK_TFLOPS: tuple[tuple[str, dict[str, float]], ...] = (
    (r"h200.*nvl", {"bfloat16": 835.5, "float16": 835.5, "tf32": 417.5, "float32": 60.0}),
    (r"h200", {"bfloat16": 989.5, "float16": 989.5, "tf32": 494.5, "float32": 67.0}),
    (r"h100.*nvl", {"bfloat16": 835.5, "float16": 835.5, "tf32": 417.5, "float32": 60.0}),
    (r"h100.*pcie", {"bfloat16": 756.0, "float16": 756.0, "tf32": 378.0, "float32": 51.0}),
    (r"h100", {"bfloat16": 989.5, "float16": 989.5, "tf32": 494.5, "float32": 67.0}),
    (r"a100", {"bfloat16": 312.0, "float16": 312.0, "tf32": 156.0, "float32": 19.5}),
    (r"l40s", {"bfloat16": 362.0, "float16": 362.0, "tf32": 183.0, "float32": 91.6}),
    (r"\bl4\b", {"bfloat16": 121.0, "float16": 121.0, "tf32": 60.0, "float32": 30.3}),
    (r"v100", {"float16": 125.0, "float32": 15.7}),
)


def synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def peak_memory_mb(device: str) -> float:
    """GPU: the most bytes allocated since the last reset. CPU: the process's peak RSS."""
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max_rss / 2**20 if sys.platform == "darwin" else max_rss / 2**10  # bytes vs KiB


def _product_rate(n: int, device: str, dtype: torch.dtype, seconds: float) -> float:
    """The best GFLOP/s of n x n products over at least `seconds`, after one untimed product.
    Each product (ten on a GPU, between synchronisations) is timed on its own and the fastest
    counts: on a shared machine that is what the device does when nothing else runs on it,
    where an average over the whole time would count the other processes' load."""
    # A generator of its own: measuring must not move the training's random stream.
    generator = torch.Generator(device).manual_seed(0)
    a, b = (torch.randn(n, n, device=device, generator=generator).to(dtype) for _ in range(2))
    out = torch.mm(a, b)
    per_sync = 10 if device == "cuda" else 1
    synchronize(device)
    best, start = 0.0, time.perf_counter()
    while True:
        before = time.perf_counter()
        for _ in range(per_sync):
            torch.mm(a, b, out=out)
        synchronize(device)
        after = time.perf_counter()
        best = max(best, 2 * n**3 * per_sync / (after - before) / 1e9)
        if after - start >= seconds:
            return best


@functools.cache
def matmul_peak_gflops(device: str, dtype: torch.dtype, seconds: float) -> float:
    """GFLOP/s of square matrix products: the best the device reaches in `dtype` within about
    `seconds`. CPU: the best over CPU_SIZES, each size given its share of the time, stopping at
    the first size whose products would not fit in what is left. Measured once per process."""
    if device != "cpu":
        return _product_rate(GPU_SIZE, device, dtype, seconds)
    best, deadline = 0.0, time.perf_counter() + seconds
    for n in CPU_SIZES:
        left = deadline - time.perf_counter()
        # An untimed and a timed product, at the best rate so far, must fit.
        if best and 2 * 2 * n**3 / (best * 1e9) > left:
            break
        best = max(best, _product_rate(n, device, dtype, min(seconds / len(CPU_SIZES), left)))
    return best


def matmul_peaks(device: str, dtypes: Iterable[torch.dtype], seconds: float) -> dict[str, float]:
    """The matmul peak of each dtype, keyed by its name without the `torch.` prefix."""
    return {
        str(dtype).removeprefix("torch."): matmul_peak_gflops(device, dtype, seconds)
        for dtype in sorted(set(dtypes), key=str)
    }


def gpu_datasheet_flops(device_name: str, dtype: torch.dtype) -> float | None:
    """FLOP/s of the GPU's datasheet for `dtype`, or None for a GPU or dtype not listed."""
    key = str(dtype).removeprefix("torch.")
    if key == "float32" and torch.get_float32_matmul_precision() != "highest":
        key = "tf32"
    name = device_name.lower()
    for pattern, peaks in GPU_PEAK_TFLOPS:
        if re.search(pattern, name):
            return peaks[key] * 1e12 if key in peaks else None
    return None


def device_peak_flops(device: torch.device, dtype: torch.dtype) -> float:
    """The peak FLOP/s that training's `perf/mfu` divides by: a listed GPU's datasheet figure,
    else Lightning's table, else (CPUs included) the matmul peak measured here."""
    if device.type == "cuda":
        listed = gpu_datasheet_flops(torch.cuda.get_device_name(device), dtype)
        if listed is None:
            from lightning.fabric.utilities.throughput import get_available_flops

            listed = get_available_flops(device, dtype)
        if listed:
            return float(listed)
    return matmul_peak_gflops(device.type, dtype, PEAK_SECONDS) * 1e9
