"""ILSVRC-2012, or any image classification set in class folders.

Training and validation read the torchvision ImageFolder layout under data.root:

    <root>/train/<wnid>/*.JPEG
    <root>/val/<wnid>/*.JPEG

Evaluation reads a validation folder in either layout of inception_cli/data/imagenet_val.py
(the official flat archive with a label file, or class folders), from data.root or `--data`.
The loader workers decode and augment the files (data.backend=cpu), or read their bytes for
DALI to decode on the GPU (data.backend=dali); docs/data.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inception_cli.data.registry import DataSet, EvaluationImages, register
from inception_cli.data.spec import AUGMENTATIONS, BACKENDS, SPLITS, DataSpec
from inception_cli.errors import InputError

if TYPE_CHECKING:
    from torch.utils.data import Dataset

    from inception_cli.data.image_folder import SkippingImageFolder

NAME = "imagenet"
LAYOUT_HINT = (
    "data.root=/path/to/imagenet must contain train/<class>/*.JPEG and val/<class>/*.JPEG "
    "(the torchvision ImageFolder layout)"
)


def class_folders(folder: Path) -> list[str]:
    with os.scandir(folder) as entries:
        return sorted(entry.name for entry in entries if entry.is_dir())


def _root_path(root: str | None) -> Path:
    if not root:
        raise InputError(f"data={NAME} needs data.root (it is not set); {LAYOUT_HINT}")
    return Path(root).expanduser()


def _classes_of_split(root: Path, split: str) -> list[str]:
    split_dir = root / split
    if not root.exists():
        problem = f"{root} does not exist"
    elif not root.is_dir():
        problem = f"{root} is not a directory"
    elif not split_dir.is_dir():
        problem = f"{root} has no {split}/ folder"
    elif classes := class_folders(split_dir):
        return classes
    else:
        problem = "it has no class folders"
    raise InputError(f"{split_dir} is missing or empty: {problem}; {LAYOUT_HINT}")


def check_imagenet_root(root: str | None, splits: Sequence[str]) -> None:
    """InputError unless `root` holds class folders for each of `splits`.

    A split that is there but not asked for must have the same class folders, or the labels of
    one split would silently mean other classes than those of the other.
    """
    root_path = _root_path(root)
    for split in splits:
        classes = _classes_of_split(root_path, split)
        other = next(name for name in SPLITS if name != split)
        other_classes = class_folders(root_path / other) if (root_path / other).is_dir() else []
        if other_classes and other_classes != classes:
            only_here = sorted(set(classes) - set(other_classes))[:3]
            only_there = sorted(set(other_classes) - set(classes))[:3]
            raise InputError(
                f"the class folders of {root_path / split} and {root_path / other} differ (e.g. "
                f"only in {split}/: {only_here}, only in {other}/: {only_there}); "
                "both splits need the same classes"
            )


def _image_folder(
    folder: Path, transform: Callable[[Any], Any], spec: DataSpec, *, encoded: bool = False
) -> SkippingImageFolder:
    from inception_cli.data.image_folder import ImageReader, SkippingImageFolder

    num_classes = spec.num_classes
    loader = ImageReader(spec.max_image_pixels, decode=not encoded)
    try:
        dataset = SkippingImageFolder(folder, transform, loader)
    except FileNotFoundError as error:
        raise InputError(f"{folder} holds no images ({error}); {LAYOUT_HINT}") from None
    if len(dataset.classes) != num_classes:
        raise InputError(
            f"{folder} has {len(dataset.classes)} class folders but data.num_classes="
            f"{num_classes}; set data.num_classes={len(dataset.classes)}"
        )
    return dataset


def validation_images(folder: Path, split: str, max_pixels: int | None = None) -> EvaluationImages:
    """The validation images under `folder` (or `folder/<split>` when that exists); those over
    `max_pixels` (None: Pillow's limit) are counted unreadable."""
    from inception_cli.data.imagenet_val import open_imagenet_val

    images = open_imagenet_val(folder, split, max_pixels=max_pixels)
    return EvaluationImages(
        name=NAME,
        dataset=images,
        in_chans=3,
        num_classes=images.num_classes,
        max_label=max(item.label for item in images.images),
        root=str(images.root),
        layout=images.layout,
        decodes_files=True,
    )


@register
class ImageNet(DataSet):
    name = NAME
    augmentations = (None, *AUGMENTATIONS)
    backends = BACKENDS

    def check(self, spec: DataSpec, splits: Sequence[str]) -> None:
        if spec.in_chans != 3:
            raise InputError(f"data.in_chans={spec.in_chans}: ImageFolder images are RGB, use 3")
        check_imagenet_root(spec.root, splits)

    def training_split(self, spec: DataSpec, split: str, *, augment: bool) -> Dataset[Any]:
        folder = _root_path(spec.root) / split
        if spec.backend == "dali":
            from inception_cli.data.dali_inputs import DaliCrops

            return _image_folder(folder, DaliCrops(spec, augment), spec, encoded=True)
        from inception_cli.data.transforms import image_transform

        return _image_folder(folder, image_transform(spec, augment=augment), spec)

    def evaluation_images(self, spec: DataSpec, split: str) -> EvaluationImages:
        if not spec.root:
            raise InputError("data.root is not set; pass the ImageNet folder with --data")
        return validation_images(Path(spec.root), split, spec.max_image_pixels)
