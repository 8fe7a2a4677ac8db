"""Writing and checking tar shards with the standard library's tarfile.

A shard is a plain POSIX (ustar) tar file of WebDataset's layout: for sample key K, the
members K.jpg (or K.png) and K.cls (the label as text), one after the other; `tar tf` lists
it and WebDataset, DALI's `fn.readers.webdataset` and others read it as it is. The writer
records where each image's data starts (the member's header is one 512-byte block, as every
name is short), which is the table random access reads from. A shard is written under a
temporary name, flushed to disk, checked by reading it back for its sha256, and only then
renamed into place: a shard that carries its final name is complete.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

from inception_cli.data.shard_index import ShardEntry
from inception_cli.rundir.durable import fsync_dir

HASH_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def shard_is_intact(folder: Path, entry: ShardEntry) -> bool:
    """The shard is there with the size and sha256 its entry records."""
    path = folder / entry.name
    try:
        return path.stat().st_size == entry.bytes and file_sha256(path) == entry.sha256
    except OSError:
        return False


class ShardWriter:
    """One shard being written; `finish` makes it durable and describes it."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder, self.name = folder, name
        self.partial = folder / f".{name}.partial"
        # Open across add() calls until finish() or abandon() closes it.
        self.tar = tarfile.open(self.partial, mode="w", format=tarfile.USTAR_FORMAT)  # noqa: SIM115
        self.offsets: list[int] = []
        self.sizes: list[int] = []
        self.labels: list[int] = []

    @property
    def bytes_written(self) -> int:
        return self.tar.offset

    @property
    def samples(self) -> int:
        return len(self.labels)

    def _member(self, name: str, data: bytes) -> int:
        """Append one member; where its data starts."""
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(data), 0o444, 0  # fixed: same input, same bytes
        header_end = self.tar.offset + len(info.tobuf(tarfile.USTAR_FORMAT))
        self.tar.addfile(info, io.BytesIO(data))
        return header_end

    def add(self, key: str, extension: str, data: bytes, label: int) -> None:
        self.offsets.append(self._member(f"{key}.{extension}", data))
        self.sizes.append(len(data))
        self.labels.append(label)
        self._member(f"{key}.cls", str(label).encode())

    def finish(self) -> ShardEntry:
        self.tar.close()
        with self.partial.open("rb+") as written:
            os.fsync(written.fileno())
        entry = ShardEntry(
            name=self.name,
            bytes=self.partial.stat().st_size,
            sha256=file_sha256(self.partial),  # read back: what a reader will get
            offsets=self.offsets,
            sizes=self.sizes,
            labels=self.labels,
        )
        os.replace(self.partial, self.folder / self.name)
        fsync_dir(self.folder)
        return entry

    def abandon(self) -> None:
        self.tar.close()
        self.partial.unlink(missing_ok=True)
