"""How the forward passes of an evaluation run: device, precision, memory layout, batch.

`--precision auto`, the default, is resolved by inception_cli/hardware.py, as for training:
bf16 where the device computes it natively (Ampere or newer GPUs, CPUs with AVX-512 BF16 or
AMX), else float32. On the quick-look run bf16 decides as float32 on 99.8-100% of the images
(docs/eval.md); a network trained only briefly agrees less, and `--precision 32` gives
float32's decisions exactly.
In bf16 (or fp16) the folded network is cast once and runs in that precision throughout, as
every layer of these networks does under autocast; the softmax and the averaging of
probabilities stay in float32. Autocast itself would cast every weight again on every pass,
which on a CPU made it run at about three quarters of the cast network's speed. docs/eval.md
has the measured speed and agreement with float32.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from inception_cli.errors import InputError
from inception_cli.hardware import resolve_precision
from inception_cli.measure import precision as precisions

PRECISIONS = ("auto", *precisions.PRECISIONS)
# Network inputs per forward pass when --batch-size is not given. A CPU is saturated by a
# hundred small inputs; a GPU needs several hundred (3 images of 144 crops) to keep its cores
# busy, and inference at 299 px in bf16 holds that in a few GiB.
DEFAULT_INPUTS_PER_PASS = {"cpu": 128, "cuda": 512}


def check_precision(precision: str) -> None:
    if precision not in PRECISIONS:
        raise InputError(f"--precision {precision!r} is not one of {', '.join(PRECISIONS)}")


def check_positive(option: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise InputError(f"{option} {value} must be at least 1")


@dataclass(frozen=True)
class RunSettings(precisions.CastSettings):
    """What the forward passes of one process run on, and how."""

    device: torch.device
    precision: str  # "32", "bf16-mixed" or "16-mixed" ("auto" resolved)
    channels_last: bool
    inputs_per_pass: int  # network inputs per forward pass (--batch-size)
    # torch.compile the folded networks (--compile). Not in as_dict: compiled and eager passes
    # give the same predictions up to rounding, so partial results of either continue the other.
    compile: bool = False

    def images_per_pass(self, inputs_per_image: int) -> int:
        """Whole images per forward pass: several when their crops fit in one pass."""
        return max(1, self.inputs_per_pass // inputs_per_image)

    def as_dict(self) -> dict[str, Any]:
        return {"precision": self.precision, "channels_last": self.channels_last}


def resolve_settings(
    device: torch.device,
    precision: str,
    channels_last: bool,
    batch_size: int | None,
    *,
    compile: bool = False,
) -> RunSettings:
    """`auto` precision and the default batch for this device."""
    check_precision(precision)
    check_positive("--batch-size", batch_size)
    accelerator = "gpu" if device.type == "cuda" else "cpu"
    resolved = str(resolve_precision(precision, accelerator, float32="32"))
    inputs = batch_size or DEFAULT_INPUTS_PER_PASS.get(device.type, DEFAULT_INPUTS_PER_PASS["cpu"])
    return RunSettings(device, resolved, channels_last, inputs, compile)
