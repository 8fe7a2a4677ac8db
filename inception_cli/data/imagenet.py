"""ILSVRC-2012 (or any image classification set) in the torchvision ImageFolder layout.

    <root>/train/<wnid>/*.JPEG
    <root>/val/<wnid>/*.JPEG

Images are decoded with `torchvision.io.decode_image` straight to uint8 RGB tensors (grey and
CMYK files are converted; the format is read from the file's bytes, so ImageNet's PNG named
.JPEG decodes too). A file that cannot be decoded does not stop a training run: it is logged
once and the next image in the folder order is returned in its place, so that the batch keeps
its size. Too many unreadable files in a row mean a broken copy, and raise.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torchvision.datasets import DatasetFolder
from torchvision.io import ImageReadMode, decode_image

from inception_cli.errors import InputError

log = logging.getLogger(__name__)

SPLITS = ("train", "val")
# The formats decode_image reads; others (BMP, TIFF, ...) would fail at every read.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
MAX_CONSECUTIVE_FAILURES = 16
LAYOUT_HINT = (
    "data.root=/path/to/imagenet must contain train/<class>/*.JPEG and val/<class>/*.JPEG "
    "(the torchvision ImageFolder layout)"
)


def read_rgb_image(path: str) -> torch.Tensor:
    """The image at `path` as a uint8 tensor (3, H, W)."""
    return decode_image(path, mode=ImageReadMode.RGB)


def to_unit_float(image: torch.Tensor) -> torch.Tensor:
    """uint8 (C, H, W) to float32 in [0, 1]."""
    return image.float() / 255.0


def _class_folders(split_dir: Path) -> list[str]:
    return sorted(entry.name for entry in os.scandir(split_dir) if entry.is_dir())


def check_imagenet_root(root: str | os.PathLike[str] | None, split: str) -> Path:
    """The folder of `split` under `root`, after checking the layout; InputError if it is wrong.

    When both train/ and val/ exist their class folders must match, or the labels of one split
    would silently mean other classes than those of the other.
    """
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}; use one of {SPLITS}")
    if root is None or str(root) in ("", "???"):
        raise InputError(f"data.root is not set; {LAYOUT_HINT}")
    root_path = Path(root).expanduser()
    if not root_path.exists():
        raise InputError(f"{root_path} does not exist; {LAYOUT_HINT}")
    if not root_path.is_dir():
        raise InputError(f"{root_path} is not a directory; {LAYOUT_HINT}")
    split_dir = root_path / split
    if not split_dir.is_dir():
        raise InputError(f"{root_path} has no {split}/ folder; {LAYOUT_HINT}")
    classes = _class_folders(split_dir)
    if not classes:
        raise InputError(f"{split_dir} has no class folders; {LAYOUT_HINT}")
    other_dir = root_path / ("val" if split == "train" else "train")
    if other_dir.is_dir():
        other_classes = _class_folders(other_dir)
        if other_classes and other_classes != classes:
            only_here = sorted(set(classes) - set(other_classes))[:3]
            only_there = sorted(set(other_classes) - set(classes))[:3]
            raise InputError(
                f"the class folders of {split_dir} and {other_dir} differ (e.g. only in "
                f"{split}/: {only_here}, only in {other_dir.name}/: {only_there}); "
                "both splits need the same classes"
            )
    return split_dir


class SkippingImageFolder(DatasetFolder):
    """An ImageFolder of decoded tensors that steps over files it cannot decode."""

    def __init__(self, root: Path, transform: Callable[[torch.Tensor], Any] | None) -> None:
        super().__init__(
            str(root), loader=read_rgb_image, extensions=IMAGE_EXTENSIONS, transform=transform
        )
        self.unreadable: set[str] = set()

    def __getitem__(self, index: int) -> tuple[Any, int]:
        for attempt in range(MAX_CONSECUTIVE_FAILURES):
            path, label = self.samples[(index + attempt) % len(self.samples)]
            try:
                image = self.loader(path)
            except (RuntimeError, OSError) as error:
                if path not in self.unreadable:
                    self.unreadable.add(path)
                    log.warning("skipping unreadable image %s: %s", path, error)
                continue
            if self.transform is not None:
                image = self.transform(image)
            return image, label
        raise RuntimeError(
            f"{MAX_CONSECUTIVE_FAILURES} images in a row from {self.samples[index][0]} on could "
            f"not be decoded; check the copy of the dataset under {self.root}"
        )


def imagenet_dataset(
    root: str | os.PathLike[str] | None,
    split: str,
    transform: Callable[[torch.Tensor], Any] | None,
    num_classes: int | None = None,
) -> SkippingImageFolder:
    """The ImageFolder of `split`, with `transform` applied to each uint8 (3, H, W) image."""
    split_dir = check_imagenet_root(root, split)
    try:
        dataset = SkippingImageFolder(split_dir, transform)
    except FileNotFoundError as error:
        raise InputError(f"{split_dir} holds no images ({error}); {LAYOUT_HINT}") from None
    if num_classes is not None and len(dataset.classes) != num_classes:
        raise InputError(
            f"{split_dir} has {len(dataset.classes)} class folders but data.num_classes="
            f"{num_classes}; set data.num_classes={len(dataset.classes)}"
        )
    return dataset
