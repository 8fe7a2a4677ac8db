"""The data position of a run as a function of the step: exact resume without replaying data.

Two rules make a killed run continue with exactly the images and augmentations it would have
seen (docs/training.md, "Faults"):

- The order of an epoch is a permutation drawn from (seed, epoch) alone, split over the ranks
  (rank r takes every world-th sample from position r). `EpochSampler` yields (epoch, index)
  keys in that order.
- Each sample's augmentation is drawn from (seed, epoch, index) alone: `KeyedDataset` seeds the
  random generator for the one sample and puts the generator back afterwards, in whichever
  process (main or loader worker) builds it. Dropout and everything else in the training
  process never see these draws.

So the data position is nothing but (epoch, batches done in the epoch), and the training
sampler reads both from the Trainer's restored progress counters each time an epoch's iterator
is made: on resume, the epoch starts past the batches already done. The other road, Lightning's stateful-dataloader support with torchdata's
StatefulDataLoader, records how far each loader worker got; it depends on the worker count and
prefetching, and augmentations drawn from the workers' generators would still differ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

Position = Callable[[], tuple[int, int]]  # (epoch, batches of it already trained)


def sample_seed(*parts: int) -> int:
    """A 63-bit seed from integers, well mixed (nearby epochs and indices share nothing)."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & ((1 << 63) - 1)


class KeyedDataset(Dataset[Any]):
    """`dataset[index]` built under a generator seeded by (seed, epoch, index)."""

    def __init__(self, dataset: Dataset[Any], seed: int) -> None:
        self.dataset = dataset
        self.seed = seed

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, key: tuple[int, int]) -> Any:
        epoch, index = key
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(sample_seed(self.seed, epoch, index))
            return self.dataset[index]


class EpochSampler(Sampler[tuple[int, int]]):
    """(epoch, index) keys of this rank's share of an epoch, in an order fixed by (seed, epoch).

    `shuffle=False` keeps the dataset's order (validation). With `drop_last` every rank gets
    the same number of samples (the tail of the permutation is left out), as DDP needs; without
    it the ranks share every sample once, the first ranks one more where it does not divide.
    """

    def __init__(
        self,
        size: int,
        *,
        seed: int,
        shuffle: bool,
        batch_size: int,
        rank: int = 0,
        world_size: int = 1,
        drop_last: bool = False,
        position: Position | None = None,
    ) -> None:
        self.size, self.seed, self.shuffle = size, seed, shuffle
        self.batch_size, self.rank, self.world_size = batch_size, rank, world_size
        self.drop_last = drop_last
        self.position = position
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def indices(self) -> list[int]:
        if self.shuffle:
            generator = torch.Generator().manual_seed(sample_seed(self.seed, self.epoch))
            order = torch.randperm(self.size, generator=generator).tolist()
        else:
            order = list(range(self.size))
        usable = (self.size // self.world_size) * self.world_size if self.drop_last else self.size
        return order[self.rank : usable : self.world_size]

    def __len__(self) -> int:
        if self.drop_last:
            return self.size // self.world_size
        return len(range(self.rank, self.size, self.world_size))

    def __iter__(self) -> Iterator[tuple[int, int]]:
        skip = 0
        if self.position is not None:
            self.epoch, skip = self.position()
        for index in self.indices()[skip * self.batch_size :]:
            yield (self.epoch, index)


class ResumableLoader(DataLoader):
    """A DataLoader over (epoch, index) keys. Its position needs no saving (the sampler reads it
    from the Trainer); it is given to Lightning as state for the record, which also tells
    Lightning that a mid-epoch checkpoint resumes exactly."""

    sampler: EpochSampler

    def state_dict(self) -> dict[str, Any]:
        position = self.sampler.position
        if position is None:
            return {}
        epoch, batches = position()
        return {"epoch": epoch, "batches": batches}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Nothing to load: the position follows from the Trainer's restored counters."""
