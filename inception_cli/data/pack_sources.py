"""What `inception data pack` packs: the images of each split of an ImageFolder source, with
their labels, in the order they go into the shards.

    SRC/train/<class>/*          class folders (the torchvision ImageFolder layout)
    SRC/val/<class>/*            the same classes, or the flat ILSVRC-2012 validation layout
    SRC/val/ILSVRC2012_val_*.JPEG with its label file (data/imagenet_val.py)

Classes are the sorted class folders of train/ (of val/ when there is no train/), so labels
mean what they mean for `data=imagenet`. The training split is shuffled once, with a fixed
seed, before it is cut into shards: the shard-major training order (training/sampling.py)
draws a batch from one shard at a time, so every shard must hold a fair sample of all classes.
The validation split keeps its order (the official one for the flat layout).
"""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass
from pathlib import Path

from inception_cli.data.image_folder import IMAGE_EXTENSIONS
from inception_cli.errors import InputError

PACK_SHUFFLE_SEED = 0
LAYOUT_HINT = (
    "SRC must hold train/<class>/* and/or val/<class>/* (or the flat ILSVRC validation "
    "layout in val/, with its labels)"
)


@dataclass(frozen=True)
class SourceImage:
    path: Path
    label: int


@dataclass(frozen=True)
class PackPlan:
    """The classes and, per split, the images in shard order."""

    classes: list[str]
    num_classes: int
    splits: dict[str, list[SourceImage]]

    def fingerprint(self, root: Path) -> str:
        """A digest of every file and label in order: a resumed pack must pack the same."""
        digest = hashlib.sha256()
        for split, images in self.splits.items():
            for image in images:
                digest.update(f"{split}\t{image.path.relative_to(root)}\t{image.label}\n".encode())
        return digest.hexdigest()


def class_folders(folder: Path) -> list[str]:
    with os.scandir(folder) as entries:
        return sorted(entry.name for entry in entries if entry.is_dir())


def _images_in(folder: Path) -> list[str]:
    with os.scandir(folder) as entries:
        return sorted(
            entry.name
            for entry in entries
            if entry.is_file() and entry.name.lower().endswith(IMAGE_EXTENSIONS)
        )


def folder_images(split_dir: Path, classes: list[str]) -> list[SourceImage]:
    present = class_folders(split_dir)
    if present != classes:
        extra = sorted(set(present) - set(classes))[:3]
        missing = sorted(set(classes) - set(present))[:3]
        raise InputError(
            f"the class folders of {split_dir} differ from the classes {extra=} {missing=}; "
            "every split needs the same class folders"
        )
    return [
        SourceImage(split_dir / name / file, label)
        for label, name in enumerate(classes)
        for file in _images_in(split_dir / name)
    ]


def validation_images(split_dir: Path, classes: list[str]) -> list[SourceImage]:
    """Class folders, or the flat official layout with its label file."""
    from inception_cli.data.imagenet_val import open_imagenet_val

    if class_folders(split_dir):
        return folder_images(split_dir, classes)
    opened = open_imagenet_val(split_dir, "val")
    images = [SourceImage(item.path, item.label) for item in opened.images]
    if classes and any(image.label >= len(classes) for image in images):
        raise InputError(f"{split_dir} has labels beyond the {len(classes)} classes of train/")
    return images


def plan_pack(source: Path, limit: int | None = None) -> PackPlan:
    """The images of SRC's splits in shard order; `limit` keeps the first N of each split
    (after the shuffle), for trials and benchmarks."""
    if not source.is_dir():
        raise InputError(f"{source} is not a folder; {LAYOUT_HINT}")
    present = [split for split in ("train", "val") if (source / split).is_dir()]
    if not present:
        raise InputError(f"{source} has neither train/ nor val/; {LAYOUT_HINT}")
    classes = class_folders(source / present[0])
    splits: dict[str, list[SourceImage]] = {}
    if "train" in present:
        splits["train"] = folder_images(source / "train", classes)
        random.Random(PACK_SHUFFLE_SEED).shuffle(splits["train"])
    if "val" in present:
        splits["val"] = validation_images(source / "val", classes)
    num_classes = len(classes) or 1 + max(i.label for images in splits.values() for i in images)
    for split, images in splits.items():
        if not images:
            raise InputError(f"{source / split} holds no images; {LAYOUT_HINT}")
        splits[split] = images[:limit] if limit is not None else images
    return PackPlan(classes, num_classes, splits)
