"""Random images and labels of any size, for the synthetic data set (data/sets/synthetic.py).

Sample i of a split is drawn from a generator seeded with (seed, split, i), so it is the same
on every call, in every worker process and on every rank, whatever the order of access.
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from inception_cli.data.spec import check_split
from inception_cli.errors import InputError

# Keeps the seeds of the two splits apart, so that no validation image repeats a training one.
# torch's CPU generator keeps only the low 32 bits of a seed, so the offset must stay below 2**32.
SPLIT_SEED_OFFSET = {"train": 0, "val": 1 << 31}


class SyntheticImages(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """`num_samples` uniform-noise images (in_chans, image_size, image_size) with random labels:
    uint8 as the training loaders carry them, or with `unit_float` float tensors in [0, 1], as
    multi-crop evaluation takes them.
    """

    def __init__(
        self,
        num_samples: int,
        num_classes: int,
        in_chans: int,
        image_size: int,
        split: str = "train",
        seed: int = 0,
        unit_float: bool = False,
    ) -> None:
        check_split(split)
        if num_samples < 1 or num_classes < 1 or in_chans < 1 or image_size < 1:
            raise InputError(
                "synthetic data needs positive num_train/num_val, num_classes, in_chans and "
                f"input_size; got {num_samples}, {num_classes}, {in_chans}, {image_size}"
            )
        self.num_samples = num_samples
        self.num_classes = num_classes
        self.shape = (in_chans, image_size, image_size)
        self.base_seed = seed + SPLIT_SEED_OFFSET[split]
        self.unit_float = unit_float

    def __len__(self) -> int:
        return self.num_samples

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not 0 <= index < self.num_samples:
            raise IndexError(f"index {index} out of range for {self.num_samples} samples")
        generator = torch.Generator().manual_seed(self.base_seed + index)
        label = torch.randint(self.num_classes, (), generator=generator)
        image = torch.randint(0, 256, self.shape, dtype=torch.uint8, generator=generator)
        return (image.float() / 255.0 if self.unit_float else image), label
