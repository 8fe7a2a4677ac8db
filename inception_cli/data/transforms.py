"""Image transforms: Inception-style training augmentation and single-crop evaluation.

Inputs are uint8 image tensors (C, H, W) as `torchvision.io.decode_image` returns them; outputs
are float tensors normalised with the dataset's mean and std. With mean = std = 0.5 this is
TF-slim's scaling to [-1, 1], which the paper's networks were trained with.
"""

from __future__ import annotations

import torch
from torchvision.transforms import InterpolationMode, v2

from inception_cli.data.crops import check_interpolation, single_crop_scale
from inception_cli.data.spec import DataSpec


def interpolation_mode(name: str) -> InterpolationMode:
    """The torchvision mode for a config's `interpolation` string."""
    check_interpolation(name)
    return InterpolationMode(name)


def _to_normalised_float(spec: DataSpec) -> list[v2.Transform]:
    return [v2.ToDtype(torch.float32, scale=True), v2.Normalize(spec.mean, spec.std)]


def training_transform(spec: DataSpec) -> v2.Compose:
    """Random-resized crop (8-100% of the area, aspect 3/4-4/3) to data.input_size, horizontal
    flip, optional colour jitter of strength data.color_jitter (0 turns it off), normalisation."""
    steps: list[v2.Transform] = [
        v2.ToImage(),
        v2.RandomResizedCrop(
            spec.input_size, scale=(0.08, 1.0), interpolation=interpolation_mode(spec.interpolation)
        ),
        v2.RandomHorizontalFlip(),
    ]
    if spec.color_jitter > 0:
        strength = spec.color_jitter
        steps.append(v2.ColorJitter(brightness=strength, contrast=strength, saturation=strength))
    return v2.Compose(steps + _to_normalised_float(spec))


def evaluation_transform(spec: DataSpec) -> v2.Compose:
    """Resize the shorter side to input_size / crop_fraction, take the centre square of
    input_size, normalise: the single-crop evaluation of the paper's Table 2."""
    resize = v2.Resize(
        single_crop_scale(spec.input_size, spec.crop_fraction),
        interpolation=interpolation_mode(spec.interpolation),
    )
    centre = v2.CenterCrop(spec.input_size)
    return v2.Compose([v2.ToImage(), resize, centre, *_to_normalised_float(spec)])


def normalize(images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """uint8 images (..., C, H, W) to float, scaled to [0, 1], then (x - mean) / std.

    `mean` and `std` have shape (C, 1, 1). Used by the tensor-only datasets, which skip the
    v2 pipeline because per-sample dispatch overhead dominates at 28-75 px.
    """
    return images.float().div(255.0).sub_(mean).div_(std)
