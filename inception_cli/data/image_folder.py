"""Reading image files: class folders (the torchvision ImageFolder layout) of the ImageNet data
set (inception_cli/data/sets/imagenet.py), and single images.

Images are decoded with `torchvision.io.decode_image` straight to uint8 RGB tensors (grey and
CMYK files are converted; the format is read from the file's bytes, so ImageNet's PNG named
.JPEG decodes too). A file that cannot be decoded, or whose header states more pixels than
data.max_image_pixels (data/pixel_limit.py: checked before it is decoded), does not stop a
training run: it is logged once and the next image in the folder order is returned in its
place, so that the batch keeps its size. Too many unreadable files in a row mean a broken copy,
and raise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torchvision.datasets import DatasetFolder
from torchvision.io import ImageReadMode, decode_image

from inception_cli.data.pixel_limit import ImageTooLarge, check_pixels

log = logging.getLogger(__name__)

# The formats decode_image reads; others (BMP, TIFF, ...) would fail at every read.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
MAX_CONSECUTIVE_FAILURES = 16


# What a loader raises for a file it steps over.
UNREADABLE = (RuntimeError, OSError, ImageTooLarge)


def decode_rgb(data: bytes) -> torch.Tensor:
    """Encoded image bytes as a uint8 tensor (3, H, W)."""
    return decode_image(
        torch.frombuffer(bytearray(data), dtype=torch.uint8), mode=ImageReadMode.RGB
    )


def read_rgb_image(path: str, max_pixels: int | None = None) -> torch.Tensor:
    """The image at `path` as a uint8 tensor (3, H, W); ImageTooLarge, before decoding, when
    it holds more than `max_pixels` (None: Pillow's limit)."""
    data = read_file_bytes(path)
    check_pixels(data, path, max_pixels)
    return decode_rgb(data)


def read_file_bytes(path: str) -> bytes:
    """The file at `path`, undecoded (data.backend=dali decodes it on the GPU)."""
    with open(path, "rb") as file:
        return file.read()


def warn_skipped(name: str, error: BaseException) -> None:
    if isinstance(error, ImageTooLarge):
        log.warning("skipping %s", error)  # the message names the image, its size and the limit
    else:
        log.warning("skipping unreadable image %s: %s", name, error)


class ImageReader:
    """The loader of an image folder: a file decoded (or, `decode=False`, its bytes for DALI),
    once its header is within the pixel limit. A class, so that worker processes get it."""

    def __init__(self, max_pixels: int | None = None, *, decode: bool = True) -> None:
        self.max_pixels, self.decode = max_pixels, decode

    def __call__(self, path: str) -> torch.Tensor | bytes:
        data = read_file_bytes(path)
        check_pixels(data, path, self.max_pixels)
        return decode_rgb(data) if self.decode else data


def to_unit_float(image: torch.Tensor) -> torch.Tensor:
    """uint8 (C, H, W) to float32 in [0, 1]."""
    return image.float() / 255.0


class SkippingImageFolder(DatasetFolder):
    """An ImageFolder of decoded tensors (or, with `loader=read_file_bytes`, of the files'
    bytes) that steps over files it cannot read."""

    def __init__(
        self,
        root: Path,
        transform: Callable[[Any], Any] | None,
        loader: Callable[[str], Any] = read_rgb_image,
    ) -> None:
        super().__init__(str(root), loader=loader, extensions=IMAGE_EXTENSIONS, transform=transform)
        self.unreadable: set[str] = set()

    def __getitem__(self, index: int) -> tuple[Any, int]:
        for attempt in range(MAX_CONSECUTIVE_FAILURES):
            path, label = self.samples[(index + attempt) % len(self.samples)]
            try:
                image = self.loader(path)
            except UNREADABLE as error:
                if path not in self.unreadable:
                    self.unreadable.add(path)
                    warn_skipped(path, error)
                continue
            if self.transform is not None:
                image = self.transform(image)
            return image, label
        raise RuntimeError(
            f"{MAX_CONSECUTIVE_FAILURES} images in a row from {self.samples[index][0]} on could "
            f"not be decoded; check the copy of the dataset under {self.root}"
        )
