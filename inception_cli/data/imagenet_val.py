"""The ILSVRC-2012 validation set for evaluation, in either layout, and the devkit blacklist.

Two layouts are read:

- flat, as in the official archive: `ILSVRC2012_val_00000001.JPEG` ... in one folder, with a
  label file in that folder or its parent (the first found, in this order):
  * `labels.txt`: one 0-based class index per line, in the order of the sorted wnids (the
    order of torchvision's ImageFolder and of timm's weights); line i is image i.
  * `ILSVRC2012_validation_ground_truth.txt` from the devkit (`data/` of
    ILSVRC2012_devkit_t12 is searched too): one 1-based ILSVRC2012_ID per line. Those ids
    follow the devkit's own class order, not the sorted wnids, so the devkit's `meta.mat`
    (read with scipy) or a `wnids.txt` listing the wnid of ILSVRC2012_ID k on line k must sit
    next to it; the class index is then the wnid's position among the sorted wnids.
- folders, as torchvision's ImageFolder: `<wnid>/*.JPEG`, classes in sorted folder order.

The blacklist (devkit `ILSVRC2015_clsloc_validation_blacklist.txt`) holds 1-based indices into
the official ordering, which the file names carry (`ILSVRC2012_val_00000042.JPEG` is image 42),
so it works with both layouts as long as the files keep their official names.

Unreadable images, and those whose header states more pixels than the limit (data/pixel_limit.py),
do not stop an evaluation: the dataset yields None for them, with a warning, and the evaluation
counts them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from inception_cli.data.image_folder import (
    IMAGE_EXTENSIONS,
    UNREADABLE,
    read_rgb_image,
    to_unit_float,
    warn_skipped,
)
from inception_cli.errors import InputError

OFFICIAL_NAME = re.compile(r"^ILSVRC2012_val_(\d{8})\.JPEG$", re.IGNORECASE)
LABELS_FILE = "labels.txt"
GROUND_TRUTH_FILE = "ILSVRC2012_validation_ground_truth.txt"
DEVKIT_DATA = Path("ILSVRC2012_devkit_t12") / "data"
LAYOUT_HINT = (
    "give a folder of ILSVRC2012_val_NNNNNNNN.JPEG with labels.txt (0-based class per line), "
    "or a folder of <wnid>/ class folders (see docs/eval.md)"
)


@dataclass(frozen=True)
class ValImage:
    path: Path
    label: int
    index: int | None  # 1-based position in the official ordering, from the file name


class ValImages(Dataset[tuple[torch.Tensor | None, int]]):
    """(image float (3, H, W) in [0, 1] at its original size, label); image is None when the
    file cannot be decoded."""

    def __init__(
        self,
        images: list[ValImage],
        root: Path,
        layout: str,
        num_classes: int | None,
        max_pixels: int | None = None,
    ) -> None:
        self.images = images
        self.max_pixels = max_pixels  # None: Pillow's limit
        self.root = root
        self.layout = layout  # "flat" or "folders"
        self.num_classes = num_classes  # None when the label file does not fix it

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, position: int) -> tuple[torch.Tensor | None, int]:
        item = self.images[position]
        try:
            image = read_rgb_image(str(item.path), self.max_pixels)
        except UNREADABLE as error:
            warn_skipped(str(item.path), error)
            return None, item.label
        return to_unit_float(image), item.label

    def without(self, excluded_indices: set[int]) -> tuple[ValImages, int]:
        """This set less the images whose official index is in `excluded_indices`, and how many
        were left out."""
        unnamed = [item.path.name for item in self.images if item.index is None]
        if unnamed:
            raise InputError(
                f"{self.root} holds files without the official name ILSVRC2012_val_NNNNNNNN.JPEG "
                f"(e.g. {unnamed[0]}), so the blacklist cannot be matched to them"
            )
        kept = [item for item in self.images if item.index not in excluded_indices]
        subset = ValImages(kept, self.root, self.layout, self.num_classes, self.max_pixels)
        return subset, len(self.images) - len(kept)


def official_index(path: Path) -> int | None:
    match = OFFICIAL_NAME.match(path.name)
    return int(match.group(1)) if match else None


def _is_image(entry: os.DirEntry[str]) -> bool:
    return entry.is_file() and entry.name.lower().endswith(IMAGE_EXTENSIONS)


def read_integers(path: Path, what: str) -> list[int]:
    """Whitespace-separated integers; lines starting with # are comments."""
    try:
        text = path.read_text()
    except OSError as error:
        raise InputError(f"cannot read the {what} {path}: {error.strerror}") from None
    values: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0]
        for token in line.split():
            try:
                values.append(int(token))
            except ValueError:
                raise InputError(
                    f"{path}:{number}: {token!r} is not an integer; the {what} holds one "
                    "integer per line"
                ) from None
    return values


def read_blacklist(path: Path) -> set[int]:
    """1-based indices into the official validation ordering."""
    if not path.is_file():
        raise InputError(f"blacklist file {path} does not exist")
    indices = read_integers(path, "blacklist")
    if any(index < 1 for index in indices):
        raise InputError(f"{path} holds an index below 1; blacklist indices are 1-based")
    return set(indices)


def _sorted_wnid_index_of_ilsvrc_ids(folder: Path) -> list[int] | None:
    """Class index (sorted-wnid order) of ILSVRC2012_ID k at position k - 1, from wnids.txt or
    the devkit's meta.mat next to the ground truth; None if neither is there."""
    wnids_file = folder / "wnids.txt"
    meta_file = folder / "meta.mat"
    if wnids_file.is_file():
        wnids = [line.strip() for line in wnids_file.read_text().splitlines() if line.strip()]
    elif meta_file.is_file():
        try:
            from scipy.io import loadmat
        except ImportError:
            raise InputError(
                f"reading {meta_file} needs scipy; install it, or write labels.txt instead"
            ) from None
        synsets = loadmat(str(meta_file), squeeze_me=True)["synsets"]
        leaves = sorted(
            (int(row[0]), str(row[1])) for row in synsets if int(row[4]) == 0
        )  # fields: ILSVRC2012_ID, WNID, words, gloss, num_children, ...
        wnids = [wnid for _, wnid in leaves]
    else:
        return None
    position = {wnid: index for index, wnid in enumerate(sorted(wnids))}
    return [position[wnid] for wnid in wnids]


def _flat_labels(folder: Path) -> tuple[list[int], int | None]:
    """Labels by official index - 1, and the number of classes if the file fixes it."""
    for candidate in (folder, folder.parent):
        labels_file = candidate / LABELS_FILE
        if labels_file.is_file():
            labels = read_integers(labels_file, "label file")
            if any(label < 0 for label in labels):
                raise InputError(f"{labels_file} holds a negative label; labels are 0-based")
            return labels, None
    for candidate in (folder, folder.parent, folder / DEVKIT_DATA, folder.parent / DEVKIT_DATA):
        truth_file = candidate / GROUND_TRUTH_FILE
        if truth_file.is_file():
            ids = read_integers(truth_file, "ground-truth file")
            class_of_id = _sorted_wnid_index_of_ilsvrc_ids(candidate)
            if class_of_id is None:
                raise InputError(
                    f"{truth_file} numbers classes in the devkit's order; put the devkit's "
                    f"meta.mat or a wnids.txt next to it, or write {LABELS_FILE} with 0-based "
                    "sorted-wnid indices"
                )
            if any(not 1 <= id_ <= len(class_of_id) for id_ in ids):
                raise InputError(f"{truth_file} holds an id outside 1..{len(class_of_id)}")
            return [class_of_id[id_ - 1] for id_ in ids], len(class_of_id)
    raise InputError(
        f"{folder} holds ILSVRC2012_val_*.JPEG files but no {LABELS_FILE} or {GROUND_TRUTH_FILE} "
        "in it or its parent; see docs/eval.md"
    )


def _open_flat(folder: Path, files: list[Path]) -> ValImages:
    labels, num_classes = _flat_labels(folder)
    images = []
    for path in files:
        index = official_index(path)
        if index is None:
            continue  # e.g. a stray README.jpg beside the official files
        if index > len(labels):
            raise InputError(
                f"{path.name} is image {index} but the label file has only {len(labels)} lines"
            )
        images.append(ValImage(path, labels[index - 1], index))
    return ValImages(images, folder, "flat", num_classes)


def _open_folders(folder: Path, class_dirs: list[Path]) -> ValImages:
    images = []
    for label, class_dir in enumerate(class_dirs):
        with os.scandir(class_dir) as entries:
            names = sorted(entry.name for entry in entries if _is_image(entry))
        images += [ValImage(class_dir / name, label, official_index(Path(name))) for name in names]
    return ValImages(images, folder, "folders", len(class_dirs))


def open_imagenet_val(
    path: Path, split: str = "val", *, max_pixels: int | None = None
) -> ValImages:
    """The validation images under `path` (or `path/<split>` when that folder exists), read
    within `max_pixels` (None: Pillow's limit)."""
    if not path.is_dir():
        raise InputError(f"{path} is not a folder; {LAYOUT_HINT}")
    folder = path / split if (path / split).is_dir() else path
    with os.scandir(folder) as entries:
        listing = list(entries)
    files = sorted(Path(entry.path) for entry in listing if _is_image(entry))
    if any(official_index(file) is not None for file in files):
        dataset = _open_flat(folder, files)
    else:
        class_dirs = sorted(Path(entry.path) for entry in listing if entry.is_dir())
        dataset = _open_folders(folder, class_dirs)
    if len(dataset) == 0:
        raise InputError(f"{folder} holds no images; {LAYOUT_HINT}")
    dataset.max_pixels = max_pixels
    return dataset
