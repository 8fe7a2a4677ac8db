"""What the loader workers hand to DALI (data.backend=dali): each file's bytes and the crop,
flip and colour distortion drawn for it; data/dali.py decodes and crops on the GPU.

The draws are made here, on the CPU, by the same functions as the CPU backend's and under the
same generator keyed by (seed, epoch, index) (training/sampling.py), not by DALI's own random
operators: so a resumed run draws exactly what it would have, and the GPU and CPU backends crop
alike. Only the image's size is needed to draw a crop, and it is read from the file's header.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor
from torchvision import transforms as v1

from inception_cli.data import pixel_limit
from inception_cli.data.crops import single_crop_scale
from inception_cli.data.inception_preprocessing import CropWindow, InceptionTraining, central_crop
from inception_cli.data.spec import DataSpec
from inception_cli.data.transforms import RESIZED_CROP_RATIO, RESIZED_CROP_SCALE


class EncodedImage(NamedTuple):
    data: np.ndarray  # the file's bytes, uint8
    window: Tensor  # (4,) float32: left, top, width, height, as fractions of the image
    flip: bool
    colors: Tensor | None  # TF-slim's colour distortion, applied on the device


class EncodedBatch(NamedTuple):
    data: list[np.ndarray]
    windows: Tensor  # (B, 4)
    flips: Tensor  # (B,) int32
    colors: Tensor | None  # (B, 5)
    labels: Tensor


def image_size(data: bytes) -> tuple[int, int]:
    """(height, width) from the file's header, without decoding it."""
    width, height = pixel_limit.image_size(data, "an image")
    return height, width


def relative(window: CropWindow, height: int, width: int) -> Tensor:
    return torch.tensor(
        [window.left / width, window.top / height, window.width / width, window.height / height],
        dtype=torch.float32,
    )


def centre_square(height: int, width: int, size: int, crop_fraction: float) -> CropWindow:
    """The evaluation crop (resize the shorter side to size / crop_fraction, take the centre
    square of size) as a window of the original image."""
    side = round(size * min(height, width) / single_crop_scale(size, crop_fraction))
    return CropWindow((height - side) // 2, (width - side) // 2, side, side)


class DaliCrops:
    """The transform of the DALI backend: file bytes to an `EncodedImage`."""

    def __init__(self, spec: DataSpec, augment: bool) -> None:
        self.size, self.augment, self.tf_slim = spec.input_size, augment, spec.tf_slim
        self.crop_fraction = spec.crop_fraction
        self.inception = InceptionTraining(spec.input_size, fast=spec.augment == "inception_fast")

    def _draw(self, height: int, width: int) -> tuple[CropWindow, bool, Tensor | None]:
        if self.tf_slim and self.augment:
            drawn = self.inception.draw(height, width)
            return drawn.crop, drawn.flip, drawn.colors
        if self.tf_slim:
            return central_crop(height, width), False, None
        if not self.augment:
            return centre_square(height, width, self.size, self.crop_fraction), False, None
        shape_only = torch.empty((), dtype=torch.uint8).expand(3, height, width)
        top, left, crop_height, crop_width = v1.RandomResizedCrop.get_params(
            shape_only, list(RESIZED_CROP_SCALE), list(RESIZED_CROP_RATIO)
        )
        flip = bool(torch.rand(1) < 0.5)
        return CropWindow(top, left, crop_height, crop_width), flip, None

    def __call__(self, data: bytes) -> EncodedImage:
        height, width = image_size(data)
        window, flip, colors = self._draw(height, width)
        encoded = np.frombuffer(data, dtype=np.uint8)
        return EncodedImage(encoded, relative(window, height, width), flip, colors)


def collate_encoded(samples: list[tuple[EncodedImage, int]]) -> EncodedBatch:
    """The loader's collate_fn for the DALI backend: the files stay a list of byte arrays."""
    images = [image for image, _ in samples]
    colors = [image.colors for image in images if image.colors is not None]
    return EncodedBatch(
        data=[image.data for image in images],
        windows=torch.stack([image.window for image in images]),
        flips=torch.tensor([image.flip for image in images], dtype=torch.int32),
        colors=torch.stack(colors) if len(colors) == len(images) else None,
        labels=torch.tensor([label for _, label in samples], dtype=torch.int64),
    )
