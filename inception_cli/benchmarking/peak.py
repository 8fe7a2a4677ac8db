"""What the device can do at best and what a run used of it: the square-matmul peak GFLOP/s and
the peak memory, read after waiting for the device to finish its queued work."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Iterable

import torch


def synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def peak_memory_mb(device: str) -> float:
    """GPU: the most bytes allocated since the last reset. CPU: the process's peak RSS."""
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max_rss / 2**20 if sys.platform == "darwin" else max_rss / 2**10  # bytes vs KiB


def matmul_peak_gflops(device: str, dtype: torch.dtype, seconds: float) -> float:
    """GFLOP/s of large square matrix products: what the device can do at best in `dtype`."""
    n = 8192 if device == "cuda" else 2048
    per_sync = 10 if device == "cuda" else 1
    a, b = (torch.randn(n, n, device=device).to(dtype) for _ in range(2))
    out = torch.mm(a, b)
    synchronize(device)
    products, start = 0, time.perf_counter()
    while True:
        for _ in range(per_sync):
            torch.mm(a, b, out=out)
        synchronize(device)
        products += per_sync
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and products >= 2:
            return 2 * n**3 * products / elapsed / 1e9


def matmul_peaks(device: str, dtypes: Iterable[torch.dtype], seconds: float) -> dict[str, float]:
    """The matmul peak of each dtype, keyed by its name without the `torch.` prefix."""
    return {
        str(dtype).removeprefix("torch."): matmul_peak_gflops(device, dtype, seconds)
        for dtype in sorted(set(dtypes), key=str)
    }
