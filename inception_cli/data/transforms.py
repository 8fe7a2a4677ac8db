"""Image transforms of the CPU backend: Inception-style training augmentation and single-crop
evaluation, or TF-slim's Inception preprocessing (data/inception_preprocessing.py).

Inputs are uint8 image tensors (C, H, W) as `torchvision.io.decode_image` returns them;
outputs stay uint8, (C, input_size, input_size): the scaling to [0, 1] and the normalisation
with the dataset's mean and std happen a batch at a time on the device (data/finishing.py).
With mean = std = 0.5 that is TF-slim's scaling to [-1, 1], which the paper's networks were
trained with.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torchvision.transforms import InterpolationMode, v2

from inception_cli.data.crops import check_interpolation, single_crop_scale
from inception_cli.data.spec import DataSpec

RESIZED_CROP_SCALE = (0.08, 1.0)
RESIZED_CROP_RATIO = (3.0 / 4.0, 4.0 / 3.0)
# The bounds torchvision draws the log aspect ratio between: float32 logs, as it computes them.
_LOG_RATIO = torch.log(torch.tensor(RESIZED_CROP_RATIO)).tolist()
_RESIZED_CROP_ATTEMPTS = 10


def interpolation_mode(name: str) -> InterpolationMode:
    """The torchvision mode for a config's `interpolation` string."""
    check_interpolation(name)
    return InterpolationMode(name)


def resized_crop_box(height: int, width: int) -> tuple[int, int, int, int]:
    """(top, left, height, width) of a random-resized crop: torchvision's
    `RandomResizedCrop.get_params` with the same draws in the same order (so the same boxes
    under the same seed), without the tensors it builds for the bounds at every call, which
    cost half of its time."""
    area = height * width
    low, high = RESIZED_CROP_SCALE
    for _ in range(_RESIZED_CROP_ATTEMPTS):
        target_area = area * torch.empty(1).uniform_(low, high).item()
        aspect_ratio = torch.exp(torch.empty(1).uniform_(*_LOG_RATIO)).item()
        crop_width = int(round(math.sqrt(target_area * aspect_ratio)))
        crop_height = int(round(math.sqrt(target_area / aspect_ratio)))
        if 0 < crop_width <= width and 0 < crop_height <= height:
            top = int(torch.randint(0, height - crop_height + 1, size=(1,)).item())
            left = int(torch.randint(0, width - crop_width + 1, size=(1,)).item())
            return top, left, crop_height, crop_width
    return _central_fallback(height, width)


def _central_fallback(height: int, width: int) -> tuple[int, int, int, int]:
    """torchvision's crop when no draw fits: the centre, at the nearest allowed aspect."""
    in_ratio = width / height
    if in_ratio < min(RESIZED_CROP_RATIO):
        crop_width, crop_height = width, int(round(width / min(RESIZED_CROP_RATIO)))
    elif in_ratio > max(RESIZED_CROP_RATIO):
        crop_height, crop_width = height, int(round(height * max(RESIZED_CROP_RATIO)))
    else:
        crop_width, crop_height = width, height
    return (height - crop_height) // 2, (width - crop_width) // 2, crop_height, crop_width


class ResizedCropFlip:
    """torchvision's RandomResizedCrop then RandomHorizontalFlip on a uint8 tensor, with the
    same draws in the same order and the same resampling kernel (so the same pixels), without
    the v2 dispatch machinery, which costs about as much as the resize itself per image."""

    def __init__(self, size: int, interpolation: str) -> None:
        self.size = size
        self.mode = interpolation_mode(interpolation).value
        self.antialias = self.mode in ("bilinear", "bicubic")  # v2 antialiases only these

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        top, left, height, width = resized_crop_box(*image.shape[-2:])
        crop = image[..., top : top + height, left : left + width].unsqueeze(0)
        flip = torch.rand(1).item() < 0.5  # RandomHorizontalFlip's draw, without a tensor op
        if flip and self.antialias:
            # Flipping before resizing gives the same pixels (these kernels are symmetric;
            # nearest is not) and costs nothing: it is the copy the layout change below makes.
            crop, flip = crop.flip(-1), False
        # torch's uint8 resampling kernels run on channels-last data: laid out so, the crop
        # resizes twice as fast (the same pixels). The batch stride is set as well, or torch
        # takes a one-image batch for NCHW and repacks the output (as torchvision does, see
        # pytorch/pytorch#68430).
        crop = crop.contiguous(memory_format=torch.channels_last)
        crop = crop.as_strided(crop.shape, (crop.numel(), *crop.stride()[1:]))
        options = {"align_corners": False, "antialias": True} if self.antialias else {}
        resized = F.interpolate(crop, size=(self.size, self.size), mode=self.mode, **options)[0]
        return resized.flip(-1) if flip else resized


def training_transform(spec: DataSpec) -> Callable[[torch.Tensor], torch.Tensor]:
    """Random-resized crop (8-100% of the area, aspect 3/4-4/3) to data.input_size, horizontal
    flip, optional colour jitter of strength data.color_jitter (0 turns it off); uint8 out."""
    crop_and_flip = ResizedCropFlip(spec.input_size, spec.interpolation)
    if spec.color_jitter <= 0:
        return crop_and_flip
    strength = spec.color_jitter
    jitter = v2.ColorJitter(brightness=strength, contrast=strength, saturation=strength)
    return v2.Compose([crop_and_flip, jitter])


def evaluation_transform(spec: DataSpec) -> v2.Compose:
    """Resize the shorter side to input_size / crop_fraction and take the centre square of
    input_size: the single-crop evaluation of the paper's Table 2; uint8 out."""
    resize = v2.Resize(
        single_crop_scale(spec.input_size, spec.crop_fraction),
        interpolation=interpolation_mode(spec.interpolation),
    )
    return v2.Compose([v2.ToImage(), resize, v2.CenterCrop(spec.input_size)])


def image_transform(spec: DataSpec, *, augment: bool) -> Callable[[Any], Any]:
    """What the CPU backend does to each decoded image of a split: the training augmentation
    data.augment names when `augment`, else its evaluation crop."""
    if spec.tf_slim:
        from inception_cli.data.inception_preprocessing import (
            InceptionEvaluation,
            InceptionTraining,
        )

        if augment:
            return InceptionTraining(spec.input_size, fast=spec.augment == "inception_fast")
        return InceptionEvaluation(spec.input_size)
    return training_transform(spec) if augment else evaluation_transform(spec)
