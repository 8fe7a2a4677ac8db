"""The loader side of an evaluation: images by their position in the evaluated set, decoded and
(on a CPU) cropped in the loader's worker processes while the network runs on the batch before.

On a GPU the crops are cut on the device instead (docs/eval.md: 0.4 ms per image for 144 crops
at 299 px): the 144 crops of one ImageNet image are 155 MB of float32, too much to copy from
the workers. Each image brings its protocol's crops and, for 144 crops, the single centre crop
after them, so that the single-crop error comes with one extra input per image; for 10 crops,
crop 4 (the centre at the single-crop scale) is the single crop already.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from inception_cli.data.crops import make_crops_batch

Geometry = tuple[int, float, str]  # input size, crop fraction, interpolation

# Where the single centre crop sits among an image's network inputs, for each protocol.
SINGLE_CROP_INDEX = {1: 0, 10: 4, 144: 144}


def inputs_per_image(crops: int) -> int:
    """The protocol's crops, plus the single crop where it is not among them."""
    return crops + 1 if SINGLE_CROP_INDEX[crops] == crops else crops


class IndexedImages(Dataset[tuple[int, Any, Any]]):
    """(position in the evaluated set, image, label) for the given positions of `dataset`."""

    def __init__(self, dataset: Dataset[Any], positions: Sequence[int]) -> None:
        self.dataset = dataset
        self.positions = list(positions)

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, item: int) -> tuple[int, Any, Any]:
        position = self.positions[item]
        image, label = self.dataset[position]
        return position, image, label


def crops_of(images: list[Tensor], crops: int, geometry: Geometry) -> Tensor:
    """(B, inputs_per_image(crops), C, size, size); one batched call when the images share a
    size."""
    size, crop_fraction, interpolation = geometry
    same_size = len({image.shape for image in images}) == 1
    batches = [torch.stack(images)] if same_size else [image.unsqueeze(0) for image in images]
    parts = []
    for batch in batches:
        cut = make_crops_batch(
            batch, crops, size, crop_fraction=crop_fraction, interpolation=interpolation
        )
        if inputs_per_image(crops) > crops:
            single = make_crops_batch(
                batch, 1, size, crop_fraction=crop_fraction, interpolation=interpolation
            )
            cut = torch.cat([cut, single], dim=1)
        parts.append(cut)
    return torch.cat(parts)


@dataclass
class ImageBatch:
    """Readable images of one forward pass: their positions and labels, and either their crops
    for each geometry (cut by the loader) or the images themselves (cut on the device)."""

    positions: Tensor
    labels: Tensor
    unreadable: list[int] = field(default_factory=list)  # positions of undecodable files
    images: list[Tensor] = field(default_factory=list)
    crops: dict[Geometry, Tensor] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.positions)

    def pin_memory(self) -> ImageBatch:
        """Page-locked copies, for asynchronous copies to the GPU (DataLoader pin_memory)."""
        self.images = [image.pin_memory() for image in self.images]
        self.crops = {geometry: crops.pin_memory() for geometry, crops in self.crops.items()}
        return self


class CollateImages:
    """collate_fn: drops unreadable images (noting their positions) and, when `crop`, cuts each
    geometry's crops. A class, so that worker processes can receive it."""

    def __init__(self, geometries: Sequence[Geometry], crops: int, *, crop: bool) -> None:
        self.geometries = list(dict.fromkeys(geometries))
        self.crops = crops
        self.crop = crop

    def __call__(self, samples: list[tuple[int, Tensor | None, Any]]) -> ImageBatch:
        readable = [(pos, image, label) for pos, image, label in samples if image is not None]
        batch = ImageBatch(
            positions=torch.tensor([pos for pos, _, _ in readable], dtype=torch.int64),
            labels=torch.tensor([int(label) for _, _, label in readable], dtype=torch.int64),
            unreadable=[pos for pos, image, _ in samples if image is None],
        )
        images = [image for _, image, _ in readable]
        if not images:
            return batch
        if self.crop:
            batch.crops = {g: crops_of(images, self.crops, g) for g in self.geometries}
        else:
            batch.images = images
        return batch


def make_loader(
    images: IndexedImages,
    collate: CollateImages,
    *,
    images_per_pass: int,
    num_workers: int,
    pin_memory: bool,
) -> DataLoader[Any]:
    return DataLoader(
        images,
        batch_size=images_per_pass,
        num_workers=num_workers,
        collate_fn=collate,
        pin_memory=pin_memory and num_workers > 0,
        multiprocessing_context=worker_start_method(num_workers),
    )


def worker_start_method(num_workers: int) -> str | None:
    """fork on Linux, even in the processes `--devices` spawns (whose default becomes spawn):
    a spawned worker imports torch and the tool again, half a minute on a busy machine. The
    workers only decode and crop, on the CPU, so forking a process that uses a GPU is safe."""
    return "fork" if num_workers > 0 and sys.platform.startswith("linux") else None
