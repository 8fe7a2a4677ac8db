"""The data position of a run as a function of the step: exact resume without replaying data.

Two rules make a killed run continue with exactly the images and augmentations it would have
seen (docs/training.md, "Faults"):

- The order of an epoch is a permutation drawn from (seed, epoch) alone, split over the ranks
  (rank r takes every world-th sample from position r). `EpochSampler` yields (epoch, index)
  keys in that order. For a dataset stored in shards (data/shards.py) the permutation is drawn
  shard-major instead: the shards in an order drawn from (seed, epoch), the samples of each
  shard shuffled within it, and rank r takes the r-th contiguous share, so each rank reads a
  few shards at a time and only 1/world of them in an epoch. It is still a function of (seed,
  epoch) alone, so resuming is as exact.
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
import itertools
from collections.abc import Callable, Iterator, Sequence
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
            # The CPU generator only, which fork_rng restores: torch.manual_seed would reseed
            # the GPU's generators too (dropout's, in a loader without workers), and costs
            # milliseconds a call where CUDA is not yet initialised.
            torch.default_generator.manual_seed(sample_seed(self.seed, epoch, index))
            return self.dataset[index]


class EpochSampler(Sampler[tuple[int, int]]):
    """(epoch, index) keys of this rank's share of an epoch, in an order fixed by (seed, epoch).

    `shuffle=False` keeps the dataset's order (validation). With `drop_last` every rank gets
    the same number of samples (the tail of the permutation is left out), as DDP needs; without
    it the ranks share every sample once, the first ranks one more where it does not divide.

    `blocks` (samples per shard, in index order) makes a shuffled order shard-major (module
    docstring); each rank then takes a contiguous share of it rather than every world-th sample.
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
        blocks: Sequence[int] | None = None,
    ) -> None:
        self.size, self.seed, self.shuffle = size, seed, shuffle
        self.batch_size, self.rank, self.world_size = batch_size, rank, world_size
        self.drop_last = drop_last
        self.position = position
        if blocks is not None and sum(blocks) != size:
            raise ValueError(f"blocks of {sum(blocks)} samples for a dataset of {size}")
        self.blocks = list(blocks) if blocks is not None else None
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def indices(self) -> list[int]:
        if not self.shuffle:
            order = list(range(self.size))
        elif self.blocks is not None:
            return self._contiguous_share(self._block_major_order())
        else:
            generator = torch.Generator().manual_seed(sample_seed(self.seed, self.epoch))
            order = torch.randperm(self.size, generator=generator).tolist()
        usable = (self.size // self.world_size) * self.world_size if self.drop_last else self.size
        return order[self.rank : usable : self.world_size]

    def _block_major_order(self) -> list[int]:
        """The blocks in a random order, each block's indices shuffled within it."""
        assert self.blocks is not None
        generator = torch.Generator().manual_seed(sample_seed(self.seed, self.epoch))
        starts = [0, *itertools.accumulate(self.blocks)]
        order: list[int] = []
        for block in torch.randperm(len(self.blocks), generator=generator).tolist():
            shuffled = torch.randperm(self.blocks[block], generator=generator) + starts[block]
            order += shuffled.tolist()
        return order

    def _contiguous_share(self, order: list[int]) -> list[int]:
        """This rank's contiguous part of `order`, of the length `__len__` gives."""
        share, extra = divmod(self.size, self.world_size)
        if self.drop_last:
            return order[self.rank * share : (self.rank + 1) * share]
        start = self.rank * share + min(self.rank, extra)
        return order[start : start + share + (1 if self.rank < extra else 0)]

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
