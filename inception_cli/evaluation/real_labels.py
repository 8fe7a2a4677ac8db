"""ImageNet-ReaL labels (Beyer et al. 2020, "Are we done with ImageNet?"), scored beside the
original labels as timm's validate.py scores them (`--real-labels real.json`).

real.json is a list with one entry per validation image in the official order
(ILSVRC2012_val_00000001.JPEG first), each entry the list of the classes the raters accepted
(0-based, in the sorted-wnid order of the original labels). An empty list means no class fitted
the image: that image is left out of the ReaL errors. A top-1 prediction is right when it is in
the image's list, a top-5 one when any of the five is.

Which entry an image gets: the number in its file name, when every image of the evaluated set
carries the official name (either layout, with the blacklist or --limit), as timm matches by
file name; otherwise its position in the data set (the evaluated order), which then must have
exactly as many images as the file has entries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Dataset, Subset

from inception_cli.data.imagenet_val import ValImages
from inception_cli.errors import InputError

NO_LABEL = -1  # pads an image's list of classes; never a predicted class
FORMAT = "a JSON list with one list of class indices per validation image (ImageNet-ReaL real.json)"


@dataclass(frozen=True)
class RealLabels:
    """The accepted classes of each position of the evaluated set, NO_LABEL padded."""

    file: Path
    matched_by: str  # "file name" or "position"
    classes: np.ndarray  # (images, widest entry) int64


@dataclass(frozen=True)
class RealScores:
    """Errors (%) under the ReaL labels, on the images that have one."""

    member_errors: list[tuple[float, float]]
    ensemble_errors: tuple[float, float]
    images: int
    file: Path
    matched_by: str


def read_real_labels(path: Path) -> list[list[int]]:
    """The entries of a real.json, or one line saying what is wrong with it."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"cannot read the ReaL labels {path}: {error.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(f"{path} is not JSON; --real-labels takes {FORMAT}") from None
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{path} holds no list of entries; --real-labels takes {FORMAT}")
    for number, entry in enumerate(entries):
        if not isinstance(entry, list) or not all(_is_class(c) for c in entry):
            raise InputError(
                f"entry {number} of {path} is {json.dumps(entry)[:40]}, not a list of class "
                f"indices (>= 0); --real-labels takes {FORMAT}"
            )
    return entries


def _is_class(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def load_real_labels(path: Path, dataset: Dataset[Any], num_classes: int) -> RealLabels:
    """The ReaL classes of each image of `dataset` (the evaluated set), checked against it."""
    entries = read_real_labels(path)
    highest = max((max(entry) for entry in entries if entry), default=-1)
    if highest >= num_classes:
        raise InputError(
            f"{path} names class {highest}, but the network predicts {num_classes} classes; "
            "give the ReaL labels of the data it was trained on"
        )
    indices, matched_by = _entry_of_each_image(path, dataset, len(entries))
    table = np.full((len(entries), max(1, *map(len, entries))), NO_LABEL, dtype=np.int64)
    for number, entry in enumerate(entries):
        table[number, : len(entry)] = entry
    classes = table[indices]
    if not (classes != NO_LABEL).any():
        raise InputError(f"none of the {len(classes)} images to evaluate has a label in {path}")
    return RealLabels(path, matched_by, classes)


def _entry_of_each_image(path: Path, dataset: Dataset[Any], entries: int) -> tuple[np.ndarray, str]:
    """The entry of each position of `dataset`, and how images were matched to entries."""
    base = dataset.dataset if isinstance(dataset, Subset) else dataset
    named = isinstance(base, ValImages) and all(item.index is not None for item in base.images)
    if isinstance(base, ValImages) and named:
        indices = np.asarray([item.index for item in base.images], dtype=np.int64) - 1
        if indices.max() >= entries:
            raise InputError(
                f"{path} has {entries} entries, but the data hold "
                f"ILSVRC2012_val_{indices.max() + 1:08d}.JPEG; give the full real.json"
            )
        matched_by = "file name"
    else:
        total = len(base)  # type: ignore[arg-type]
        if total != entries:
            raise InputError(
                f"{path} has {entries} entries, but the data hold {total} images, matched by "
                "position (their files do not carry the official ILSVRC2012_val_ names)"
            )
        indices, matched_by = np.arange(total), "position"
    if isinstance(dataset, Subset):  # --limit: the first images of the set
        indices = indices[np.asarray(dataset.indices, dtype=np.int64)]
    return indices, matched_by


def real_scores(labels: RealLabels, positions: np.ndarray, top: np.ndarray) -> RealScores | None:
    """ReaL errors of each head from its top classes (n, heads, k) at `positions`; None when no
    scored image has a ReaL label (all that had one were unreadable)."""
    classes = labels.classes[positions]
    labelled = (classes != NO_LABEL).any(axis=1)
    if not labelled.any():
        return None
    hits = (top[labelled][:, :, :, None] == classes[labelled][:, None, None, :]).any(axis=3)
    top1, top5 = hits[:, :, 0].mean(axis=0), hits.any(axis=2).mean(axis=0)
    errors = [(100.0 * (1.0 - a), 100.0 * (1.0 - b)) for a, b in zip(top1, top5, strict=True)]
    return RealScores(errors[:-1], errors[-1], int(labelled.sum()), labels.file, labels.matched_by)
