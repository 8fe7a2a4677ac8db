"""What an evaluation keeps of each image: its label and the top-5 classes of every member and of
the ensemble, under the protocol's crops and under the single centre crop.

The errors need nothing more, and it is small: 50,000 images of a 4-network ensemble are a few
MB, where the averaged probabilities would be 200 MB per network. It is what processes send to
the first one at the end (each image once) and what partial results keep on disk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from inception_cli.rundir.durable import write_durably

TOP_K = 5
FIELDS = ("positions", "labels", "multi", "single", "unreadable")


@dataclass
class Predictions:
    """Per readable image: position in the evaluated set, label, and top-k classes of each head
    (heads: the members in order, then their ensemble), best first. `single` is the same under
    the single centre crop; for a 1-crop evaluation it is empty (no images)."""

    positions: np.ndarray  # (n,) int64
    labels: np.ndarray  # (n,) int64
    multi: np.ndarray  # (n, heads, k) int32
    single: np.ndarray  # (n, heads, k) int32, or (0, heads, k) when crops == 1
    unreadable: np.ndarray  # (m,) int64: positions of files that could not be decoded

    @classmethod
    def empty(cls, heads: int, k: int) -> Predictions:
        no_classes = np.zeros((0, heads, k), dtype=np.int32)
        no_positions = np.zeros(0, dtype=np.int64)
        return cls(no_positions, no_positions.copy(), no_classes, no_classes.copy(), no_positions)

    @property
    def done(self) -> set[int]:
        """Positions finished: scored, or found unreadable."""
        return {int(p) for p in self.positions} | {int(p) for p in self.unreadable}

    @property
    def has_single(self) -> bool:
        return len(self.single) == len(self.positions) > 0

    def __len__(self) -> int:
        return len(self.positions)

    def in_order(self) -> Predictions:
        """Sorted by position, each position once (the first copy kept)."""
        _, first = np.unique(self.positions, return_index=True)
        single = self.single[first] if self.has_single else self.single
        return Predictions(
            self.positions[first],
            self.labels[first],
            self.multi[first],
            single,
            np.unique(self.unreadable),
        )

    def errors(self, single: bool = False) -> list[tuple[float, float]]:
        """(top-1, top-5) error in % of each head."""
        top = self.single if single else self.multi
        hits = top == self.labels[:, None, None]
        top1 = hits[:, :, 0].mean(axis=0)
        top5 = hits.any(axis=2).mean(axis=0)
        return [(100.0 * (1.0 - a), 100.0 * (1.0 - b)) for a, b in zip(top1, top5, strict=True)]

    def labels_sha256(self) -> str:
        """Of the labels in position order: the same digest, the same images."""
        ordered = self.labels[np.argsort(self.positions, kind="stable")]
        return hashlib.sha256(ordered.astype(np.int64).tobytes()).hexdigest()

    def save(self, path: Path) -> None:
        """Durably replace `path` (.npz): a kill leaves the previous file or this one."""
        arrays = {name: getattr(self, name) for name in FIELDS}

        def write(file: IO[Any]) -> None:
            np.savez(file, **arrays)

        write_durably(path, write, text=False)

    @classmethod
    def load(cls, path: Path) -> Predictions:
        with np.load(path, allow_pickle=False) as saved:
            return cls(*(saved[name] for name in FIELDS))


def concatenate(parts: Sequence[Predictions], heads: int, k: int) -> Predictions:
    kept = [part for part in parts if len(part) or len(part.unreadable)]
    if not kept:
        return Predictions.empty(heads, k)
    with_single = [part.single for part in kept if part.has_single]
    return Predictions(
        np.concatenate([part.positions for part in kept]),
        np.concatenate([part.labels for part in kept]),
        np.concatenate([part.multi for part in kept]),
        np.concatenate(with_single) if with_single else np.zeros((0, heads, k), np.int32),
        np.concatenate([part.unreadable for part in kept]),
    )
