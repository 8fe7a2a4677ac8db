"""Evaluation crops: one centre crop, 10 crops, and GoogLeNet's 144 crops.

The paper reports single-crop, "12-crop" and 144-crop errors (Table 2) and 144-crop ensembles
(Table 5). The 144-crop protocol is GoogLeNet's ("Going deeper with convolutions", section 7);
the v4 paper's 12-crop protocol is defined nowhere, so the 10-crop protocol of GoogLeNet and
torchvision's TenCrop stands in for it. All crops are cut from one resized copy per scale with
tensor slicing, so a batch of same-size images is cropped in a few `interpolate` calls.

Crop order (`n` = n_crops; for 10 and 144 crop `i + n // 2` is the mirror of crop `i`):

- 1: resize the shorter side to floor(size / crop_fraction), take the centre square of `size`
  (the single-crop evaluation of Table 2, as torchvision's Resize + CenterCrop).
- 10: resize the shorter side to floor(size / crop_fraction), the same scale as the single crop;
  crops 0-4 are the top-left, top-right, bottom-left and bottom-right corners and the centre of
  the whole resized image (torchvision's FiveCrop order), crops 5-9 their horizontal mirrors in
  the same order (torchvision's TenCrop crops the mirrored image instead, so its crop 5 is the
  mirror of the top-right corner).
- 144: four scales whose shorter side is size * (256, 288, 320, 352) / 224, rounded (for 224 px:
  256 ... 352; for 299 px: 342, 384, 427, 470). At each scale three squares of the shorter side:
  left, centre, right (top, centre, bottom for portrait images; a square image gives the same
  square three times, kept so that every image has 144 crops). From each square six crops:
  the 4 corners and the centre at `size`, then the whole square resized to `size`. Crop index
  = 18 * scale + 6 * square + k for crops 0-71; crops 72-143 are their horizontal mirrors.
  `crop_fraction` plays no part in this protocol.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from inception_cli.errors import InputError

CROP_COUNTS = (1, 10, 144)
# Shorter side at each scale of the 144-crop protocol, for GoogLeNet's 224 px input.
MULTI_CROP_SHORTER_SIDES = (256, 288, 320, 352)
MULTI_CROP_REFERENCE_SIZE = 224
INTERPOLATIONS = ("nearest", "bilinear", "bicubic")


def check_crop_count(n_crops: int) -> None:
    if n_crops not in CROP_COUNTS:
        raise InputError(
            f"no {n_crops}-crop protocol; use one of {', '.join(map(str, CROP_COUNTS))}"
        )


def check_interpolation(name: str) -> None:
    if name not in INTERPOLATIONS:
        raise InputError(
            f"interpolation={name!r} is not supported; use one of {', '.join(INTERPOLATIONS)}"
        )


def multi_crop_scales(size: int) -> list[int]:
    """Shorter sides of the four scales of the 144-crop protocol for an input of `size`."""
    return [round(size * side / MULTI_CROP_REFERENCE_SIZE) for side in MULTI_CROP_SHORTER_SIDES]


def single_crop_scale(size: int, crop_fraction: float) -> int:
    """Shorter side to resize to so that a centre crop of `size` keeps `crop_fraction`: the
    1- and 10-crop protocols, and the evaluation transform of training."""
    if not 0.0 < crop_fraction <= 1.0:
        raise InputError(f"crop_fraction={crop_fraction} must be in (0, 1]")
    return math.floor(size / crop_fraction)


def resize(images: Tensor, height: int, width: int, interpolation: str) -> Tensor:
    """Resize a batch (B, C, H, W), antialiased like PIL when shrinking."""
    check_interpolation(interpolation)
    if interpolation == "nearest":
        return F.interpolate(images, size=(height, width), mode="nearest")
    return F.interpolate(
        images, size=(height, width), mode=interpolation, align_corners=False, antialias=True
    )


def resize_shorter_side(images: Tensor, shorter: int, interpolation: str) -> Tensor:
    """Resize a batch (B, C, H, W) so that its shorter side is `shorter`, keeping the aspect
    ratio (the longer side is truncated, as in torchvision's Resize)."""
    height, width = images.shape[-2:]
    if height <= width:
        return resize(images, shorter, int(shorter * width / height), interpolation)
    return resize(images, int(shorter * height / width), shorter, interpolation)


def centre_crop(images: Tensor, size: int) -> Tensor:
    height, width = images.shape[-2:]
    top = int(round((height - size) / 2.0))
    left = int(round((width - size) / 2.0))
    return images[..., top : top + size, left : left + size]


def five_crops(images: Tensor, size: int) -> list[Tensor]:
    """Top-left, top-right, bottom-left, bottom-right and centre squares of `size`."""
    height, width = images.shape[-2:]
    if size > height or size > width:
        raise ValueError(f"crop of {size} px does not fit in an image of {height}x{width}")
    return [
        images[..., :size, :size],
        images[..., :size, width - size :],
        images[..., height - size :, :size],
        images[..., height - size :, width - size :],
        centre_crop(images, size),
    ]


def three_squares(images: Tensor) -> list[Tensor]:
    """The left, centre and right squares (top, centre, bottom when portrait) of the shorter
    side; a square image yields itself three times."""
    height, width = images.shape[-2:]
    side = min(height, width)
    spare = max(height, width) - side
    offsets = (0, int(round(spare / 2.0)), spare)
    if width >= height:
        return [images[..., :, offset : offset + side] for offset in offsets]
    return [images[..., offset : offset + side, :] for offset in offsets]


def _check_inputs(images: Tensor, n_crops: int, size: int) -> None:
    if images.dim() != 4:
        raise ValueError(f"images must be (B, C, H, W), got shape {tuple(images.shape)}")
    check_crop_count(n_crops)
    if size < 1:
        raise ValueError(f"crop size {size} must be positive")
    if not images.is_floating_point():
        raise ValueError(f"images must be float tensors in [0, 1], got {images.dtype}")


def make_crops_batch(
    images: Tensor,
    n_crops: int,
    size: int,
    *,
    crop_fraction: float = 0.875,
    interpolation: str = "bilinear",
) -> Tensor:
    """Crops (B, n_crops, C, size, size) of a batch of same-size float images (B, C, H, W).

    n_crops is 1, 10 or 144; the protocols and the crop order are in the module docstring.
    """
    _check_inputs(images, n_crops, size)
    if n_crops == 1:
        resized = resize_shorter_side(images, single_crop_scale(size, crop_fraction), interpolation)
        return centre_crop(resized, size).unsqueeze(1)
    if n_crops == 10:
        resized = resize_shorter_side(images, single_crop_scale(size, crop_fraction), interpolation)
        crops = five_crops(resized, size)
    else:
        crops = []
        for shorter in multi_crop_scales(size):
            squares = three_squares(resize_shorter_side(images, shorter, interpolation))
            # One interpolate call shrinks the three squares together.
            whole_squares = resize(torch.cat(squares), size, size, interpolation).chunk(3)
            for square, whole in zip(squares, whole_squares, strict=True):
                crops += five_crops(square, size)
                crops.append(whole)
    unmirrored = torch.stack(crops, dim=1)
    return torch.cat([unmirrored, unmirrored.flip(-1)], dim=1)
