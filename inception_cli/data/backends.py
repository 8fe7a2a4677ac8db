"""Who decodes and augments the images (`data.backend`), checked without importing torch.

- `cpu` (the default): loader worker processes decode the files and augment them with
  torchvision; the batches reach the device as uint8.
- `dali`: NVIDIA DALI decodes the JPEGs on the GPU (nvJPEG, `device="mixed"`), crops, resizes
  and flips there (data/dali.py); loader workers only read the files' bytes and draw the crops.

The check runs in the CLI process before training starts, so a machine without a GPU, or
without DALI, gets one line instead of a traceback from a training process.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from inception_cli.data.spec import DataSpec
from inception_cli.errors import InputError

DALI_MODULE = "nvidia.dali"
DALI_INSTALL = "pip install 'inception-paper-lab[dali]'"
NVIDIA_DRIVER_GPUS = Path("/proc/driver/nvidia/gpus")


def nvidia_gpu_visible() -> bool:
    """True when the NVIDIA driver lists a GPU and CUDA_VISIBLE_DEVICES does not hide them all.

    Read from the driver's /proc entries, not from torch: this runs before torch is imported.
    """
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return False
    try:
        return any(NVIDIA_DRIVER_GPUS.iterdir())
    except OSError:
        return False


def dali_installed() -> bool:
    try:
        return importlib.util.find_spec(DALI_MODULE) is not None
    except (ImportError, ValueError):
        return False


def check_backend(spec: DataSpec) -> None:
    """InputError when `data.backend` cannot run here, or not with these settings."""
    if spec.backend != "dali":
        return
    if spec.color_jitter > 0:
        raise InputError(
            "data.color_jitter runs on the CPU backend only; set data.color_jitter=0 with "
            "data.backend=dali (or use data.augment=inception, whose colour distortion runs on "
            "the GPU)"
        )
    if not nvidia_gpu_visible():
        raise InputError(
            "data.backend=dali needs a GPU: DALI decodes on an NVIDIA GPU and this machine has "
            "none visible; use data.backend=cpu"
        )
    if not dali_installed():
        raise InputError(f"data.backend=dali needs NVIDIA DALI: {DALI_INSTALL}")
