"""Map-style datasets over packed tar shards (data/shard_index.py): sample i of a split is read
with one positioned read (`os.pread`) at the offset the index gives, from whichever shard holds
it. Random access by global index keeps the training loader's scheme unchanged: the sampler
asks for (epoch, index) keys and each sample's augmentation is seeded by (seed, epoch, index)
(training/sampling.py), so exact resume and the split over ranks and workers hold as for a
folder of files.

File handles are opened lazily and kept, at most MAX_OPEN_SHARDS at a time; a reader sent to
a worker process by pickling opens its own. Opening a shard asks the kernel to read it ahead
(POSIX_FADV_WILLNEED): the training order reads one rank's shards a few at a time
(`EpochSampler` with `blocks`), so the reads that follow find the shard in the page cache and
the disk, or the shared file system, sees large sequential reads instead of small random ones.

An image that cannot be decoded, or whose header states more pixels than data.max_image_pixels
(data/pixel_limit.py), is logged once with its shard and index: training takes the next sample
in its place, as for a folder of files (data/image_folder.py); evaluation counts it unreadable.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from inception_cli.data.image_folder import (
    MAX_CONSECUTIVE_FAILURES,
    UNREADABLE,
    decode_rgb,
    warn_skipped,
)
from inception_cli.data.pixel_limit import check_pixels
from inception_cli.data.shard_index import ShardEntry

MAX_OPEN_SHARDS = 64


class ShardReader:
    """Bytes of samples by global index, from the shards of one split."""

    def __init__(self, root: Path, shards: list[ShardEntry]) -> None:
        self.root = root
        self.names = [shard.name for shard in shards]
        self.sizes_per_shard = [shard.samples for shard in shards]
        # numpy tables: compact, and untouched by reference counting, so the pages a forked
        # worker shares with its parent stay shared.
        self.shard_of = np.repeat(np.arange(len(shards), dtype=np.int32), self.sizes_per_shard)
        self.offsets = np.array([o for shard in shards for o in shard.offsets], dtype=np.int64)
        self.lengths = np.array([n for shard in shards for n in shard.sizes], dtype=np.int64)
        self.labels = np.array(
            [label for shard in shards for label in shard.labels], dtype=np.int64
        )
        self._handles: OrderedDict[int, int] = OrderedDict()

    def __len__(self) -> int:
        return len(self.labels)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_handles"] = OrderedDict()  # descriptors belong to the process that opened them
        return state

    def _handle(self, shard: int) -> int:
        # A forked worker may go on with descriptors it inherited: pread has no file offset
        # to share.
        handle = self._handles.get(shard)
        if handle is not None:
            self._handles.move_to_end(shard)
            return handle
        if len(self._handles) >= MAX_OPEN_SHARDS:
            os.close(self._handles.popitem(last=False)[1])
        handle = os.open(self.root / self.names[shard], os.O_RDONLY)
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(handle, 0, 0, os.POSIX_FADV_WILLNEED)
        self._handles[shard] = handle
        return handle

    def read(self, index: int) -> bytes:
        shard = int(self.shard_of[index])
        size, offset = int(self.lengths[index]), int(self.offsets[index])
        data = os.pread(self._handle(shard), size, offset)
        if len(data) != size:
            raise RuntimeError(
                f"{self.root / self.names[shard]} ends before sample {index} (a torn copy?); "
                "pack the data again"
            )
        return data

    def close(self) -> None:
        while self._handles:
            os.close(self._handles.popitem()[1])

    def name_of(self, index: int) -> str:
        """Where sample `index` lies, for a message."""
        return f"{self.root / self.names[int(self.shard_of[index])]} (sample {index})"


class _Images:
    """Reads a reader's images within the pixel limit; None, logged once, for one that cannot
    be decoded or is over the limit. A torn shard still raises (ShardReader.read)."""

    def __init__(self, reader: ShardReader, max_pixels: int | None, decode: bool) -> None:
        self.reader, self.max_pixels, self.decode = reader, max_pixels, decode
        self.unreadable: set[int] = set()

    def image(self, index: int) -> Any:
        data = self.reader.read(index)
        try:
            check_pixels(data, self.reader.name_of(index), self.max_pixels)
            return decode_rgb(data) if self.decode else data
        except UNREADABLE as error:
            if index not in self.unreadable:
                self.unreadable.add(index)
                warn_skipped(self.reader.name_of(index), error)
            return None


class ShardSamples(Dataset[tuple[Any, int]]):
    """(transform(bytes or decoded image), label) of one split; `decode=False` hands the
    transform the encoded bytes (data.backend=dali)."""

    def __init__(
        self,
        reader: ShardReader,
        transform: Callable[[Any], Any],
        *,
        decode: bool = True,
        max_pixels: int | None = None,
    ) -> None:
        self.reader, self.transform = reader, transform
        self.images = _Images(reader, max_pixels, decode)

    @property
    def shard_sizes(self) -> list[int]:
        """Samples per shard, in index order: the blocks of the shard-major training order."""
        return self.reader.sizes_per_shard

    def __len__(self) -> int:
        return len(self.reader)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        for attempt in range(MAX_CONSECUTIVE_FAILURES):
            position = (index + attempt) % len(self.reader)
            image = self.images.image(position)
            if image is not None:  # else the next sample takes its place, with its label
                return self.transform(image), int(self.reader.labels[position])
        raise RuntimeError(
            f"{MAX_CONSECUTIVE_FAILURES} images in a row from {self.reader.name_of(index)} on "
            "could not be decoded; pack the data again"
        )


class ShardOriginals(Dataset[tuple[torch.Tensor | None, int]]):
    """(float image (3, H, W) in [0, 1] as stored, label): multi-crop evaluation's input; the
    image is None when it cannot be decoded or is over the pixel limit (counted unreadable)."""

    def __init__(self, reader: ShardReader, max_pixels: int | None = None) -> None:
        self.reader = reader
        self.images = _Images(reader, max_pixels, decode=True)

    def __len__(self) -> int:
        return len(self.reader)

    def __getitem__(self, index: int) -> tuple[torch.Tensor | None, int]:
        image = self.images.image(index)
        label = int(self.reader.labels[index])
        return (None if image is None else image.float() / 255.0), label
