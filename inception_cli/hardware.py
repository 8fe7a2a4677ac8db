"""What the machine computes fast, for defaults that depend on it (precision)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

CPU_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


@cache
def cpu_flags() -> frozenset[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def native_bf16(accelerator: str) -> bool:
    """True where bf16 matmuls run in hardware: Ampere or newer GPUs, CPUs with AVX-512 BF16/AMX."""
    import torch

    wants_gpu = accelerator in ("gpu", "cuda") or (
        accelerator == "auto" and torch.cuda.is_available()
    )
    if wants_gpu:
        return torch.cuda.is_available() and torch.cuda.get_device_capability()[0] >= 8
    return bool(CPU_BF16_FLAGS & cpu_flags())


def resolve_precision(precision: object, accelerator: str, float32: str = "32-true") -> object:
    """`auto` becomes bf16-mixed where the hardware has native bf16, else `float32` (Lightning's
    "32-true"; `inception bench` calls it "32")."""
    if precision != "auto":
        return precision
    return "bf16-mixed" if native_bf16(accelerator) else float32
