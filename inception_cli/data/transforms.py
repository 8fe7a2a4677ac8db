"""Image transforms: Inception-style training augmentation and single-crop evaluation.

Inputs are uint8 image tensors (C, H, W) as `torchvision.io.decode_image` returns them; outputs
are float tensors normalised with the dataset's mean and std. With mean = std = 0.5 this is
TF-slim's scaling to [-1, 1], which the paper's networks were trained with.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torchvision.transforms import InterpolationMode, v2

from inception_cli.errors import InputError

INTERPOLATIONS = ("nearest", "bilinear", "bicubic")


def interpolation_mode(name: str) -> InterpolationMode:
    """The torchvision mode for a config's `interpolation` string."""
    if name not in INTERPOLATIONS:
        raise InputError(
            f"data.interpolation={name!r} is not supported; use one of {', '.join(INTERPOLATIONS)}"
        )
    return InterpolationMode(name)


def resize_size_for_crop(input_size: int, crop_fraction: float) -> int:
    """Shorter side to resize to so that a centre crop of `input_size` keeps `crop_fraction`."""
    if not 0.0 < crop_fraction <= 1.0:
        raise InputError(f"data.crop_fraction={crop_fraction} must be in (0, 1]")
    return math.floor(input_size / crop_fraction)


def training_transform(
    input_size: int,
    mean: Sequence[float],
    std: Sequence[float],
    interpolation: str = "bicubic",
    color_jitter: float = 0.0,
) -> v2.Compose:
    """Random-resized crop (8-100% of the area, aspect 3/4-4/3), horizontal flip, optional
    colour jitter of strength `color_jitter` (0 turns it off), then normalisation."""
    steps: list[v2.Transform] = [
        v2.ToImage(),
        v2.RandomResizedCrop(
            input_size, scale=(0.08, 1.0), interpolation=interpolation_mode(interpolation)
        ),
        v2.RandomHorizontalFlip(),
    ]
    if color_jitter > 0:
        steps.append(
            v2.ColorJitter(brightness=color_jitter, contrast=color_jitter, saturation=color_jitter)
        )
    steps += [v2.ToDtype(torch.float32, scale=True), v2.Normalize(list(mean), list(std))]
    return v2.Compose(steps)


def evaluation_transform(
    input_size: int,
    mean: Sequence[float],
    std: Sequence[float],
    interpolation: str = "bicubic",
    crop_fraction: float = 0.875,
) -> v2.Compose:
    """Resize the shorter side to input_size / crop_fraction, take the centre square of
    input_size, normalise: the single-crop evaluation of the paper's Table 2."""
    return v2.Compose(
        [
            v2.ToImage(),
            v2.Resize(
                resize_size_for_crop(input_size, crop_fraction),
                interpolation=interpolation_mode(interpolation),
            ),
            v2.CenterCrop(input_size),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(list(mean), list(std)),
        ]
    )


def normalize(images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """uint8 images (..., C, H, W) to float, scaled to [0, 1], then (x - mean) / std.

    `mean` and `std` have shape (C, 1, 1). Used by the tensor-only datasets, which skip the
    v2 pipeline because per-sample dispatch overhead dominates at 28-75 px.
    """
    return images.float().div(255.0).sub_(mean).div_(std)
