"""`inception data pack SRC DST`: an image folder into tar shards with an index (docs/data.md).

Resumable: after each finished shard, DST/pack-progress.json records it (name, sample table,
sha256) and how many source images it consumed. A killed pack run again with the same
arguments keeps every finished shard whose sha256 still matches, drops the half-written one,
and goes on from there; the result is byte for byte what an uninterrupted pack writes. The
index (DST/index.json) is written last, and then the progress file is removed.

Verified: each shard's sha256 is computed by reading it back once it is on disk, and the
counts are checked at the end: for every split, packed + unreadable = the images found.
"""

from __future__ import annotations

import json
import multiprocessing
import re
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from inception_cli.data.pack_encoding import JPEG_QUALITY, EncodedImage, encode_job
from inception_cli.data.pack_sources import PackPlan, SourceImage, plan_pack
from inception_cli.data.shard_index import (
    ShardEntry,
    ShardIndex,
    index_path,
    read_index,
    write_index,
)
from inception_cli.data.tar_shards import ShardWriter, shard_is_intact
from inception_cli.errors import InputError
from inception_cli.rundir.durable import atomic_write_text

PROGRESS_FILE = "pack-progress.json"
DEFAULT_SHARD_SIZE = "256MB"
SIZE_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9}
SIZE_UNITS |= {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30}
TAR_OVERHEAD = 3 * 512  # two member headers and padding per sample, for the size limit
ENCODE_CHUNK = 16


def parse_size(text: str) -> int:
    """'256MB', '1GB', '512MiB' or a number of bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    unit = match.group(2).upper() if match else None
    if match is None or unit not in SIZE_UNITS:
        raise InputError(f"--shard-size {text!r}: give a size such as 256MB, 1GB or 512MiB")
    size = int(float(match.group(1)) * SIZE_UNITS[unit])
    if size < 2**16:
        raise InputError(f"--shard-size {text}: shards need at least 64KiB")
    return size


@dataclass(frozen=True)
class PackSettings:
    max_side: int | None = None
    shard_bytes: int = 256 * 10**6
    limit: int | None = None  # the first N images of each split
    workers: int = 0  # encoding processes; 0 encodes in this one

    def record(self, source: Path, plan: PackPlan) -> dict[str, Any]:
        """What decides the shards' content: a pack resumes only with the same."""
        return {
            "source": str(source.resolve()),
            "max_side": self.max_side,
            "shard_bytes": self.shard_bytes,
            "limit": self.limit,
            "jpeg_quality": JPEG_QUALITY,
            "fingerprint": plan.fingerprint(source),
        }


@dataclass
class SplitProgress:
    """Finished shards of one split, and the source images they consumed."""

    shards: list[ShardEntry] = field(default_factory=list)
    consumed: list[int] = field(default_factory=list)  # after each shard
    skipped: list[int] = field(default_factory=list)  # unreadable, after each shard

    def record(self) -> dict[str, Any]:
        return {
            "shards": [shard.record() for shard in self.shards],
            "consumed": self.consumed,
            "skipped": self.skipped,
        }

    def kept_intact(self, folder: Path) -> SplitProgress:
        """The leading shards whose files still match their sha256."""
        count = 0
        while count < len(self.shards) and shard_is_intact(folder, self.shards[count]):
            count += 1
        return SplitProgress(self.shards[:count], self.consumed[:count], self.skipped[:count])


def _load_progress(folder: Path, settings: dict[str, Any]) -> dict[str, SplitProgress]:
    path = folder / PROGRESS_FILE
    if not path.is_file():
        return {}
    try:
        record = json.loads(path.read_text())
        same = record["settings"] == settings
        progress = {
            split: SplitProgress(
                [ShardEntry.from_record(s) for s in content["shards"]],
                [int(n) for n in content["consumed"]],
                [int(n) for n in content["skipped"]],
            )
            for split, content in record["splits"].items()
        }
    except (OSError, ValueError, KeyError, TypeError):
        return {}  # unreadable: start over
    if not same:
        raise InputError(
            f"{folder} holds an unfinished pack of another source or other settings; run the "
            f"same command again, or pack into another folder (or delete {path})"
        )
    return {split: done.kept_intact(folder) for split, done in progress.items()}


def _save_progress(folder: Path, settings: dict[str, Any], done: dict[str, SplitProgress]) -> None:
    record = {"settings": settings, "splits": {s: p.record() for s, p in done.items()}}
    atomic_write_text(folder / PROGRESS_FILE, json.dumps(record, separators=(",", ":")))


@contextmanager
def _encoded(images: list[SourceImage], max_side: int | None, workers: int) -> Iterator[Any]:
    """The images encoded in order, by `workers` processes (or this one)."""
    jobs = [(str(image.path), max_side) for image in images]
    if workers == 0:
        yield map(encode_job, jobs)
        return
    with multiprocessing.get_context().Pool(workers) as pool:
        yield pool.imap(encode_job, jobs, chunksize=ENCODE_CHUNK)


@dataclass
class SplitPacker:
    """Cuts one split's encoded images into shards of at most `shard_bytes`."""

    folder: Path
    split: str
    shard_bytes: int
    done: SplitProgress
    save: Any  # called after each finished shard
    writer: ShardWriter | None = None

    def _finish_shard(self, consumed: int, skipped: int) -> None:
        assert self.writer is not None
        self.done.shards.append(self.writer.finish())
        self.done.consumed.append(consumed)
        self.done.skipped.append(skipped)
        self.writer = None
        self.save()

    def add(self, position: int, encoded: EncodedImage, label: int, skipped: int) -> None:
        writer = self.writer
        limit = self.shard_bytes - tarfile.RECORDSIZE  # tar pads its end to a whole record
        if writer and writer.bytes_written + len(encoded.data) + TAR_OVERHEAD > limit:
            self._finish_shard(position, skipped)
        if self.writer is None:
            name = f"{self.split}-{len(self.done.shards):06d}.tar"
            self.writer = ShardWriter(self.folder, name)
        self.writer.add(f"{position:09d}", encoded.extension, encoded.data, label)

    def close(self, consumed: int, skipped: int) -> None:
        if self.writer is not None:
            self._finish_shard(consumed, skipped)


def _pack_split(
    packer: SplitPacker, images: list[SourceImage], settings: PackSettings, progress: Any
) -> list[str]:
    """Encode and write the images the finished shards have not consumed; the unreadable."""
    start = packer.done.consumed[-1] if packer.done.consumed else 0
    skipped = packer.done.skipped[-1] if packer.done.skipped else 0
    unreadable: list[str] = []
    try:
        with _encoded(images[start:], settings.max_side, settings.workers) as encoded_images:
            for position, encoded in enumerate(encoded_images, start=start):
                if encoded is None:
                    skipped += 1
                    unreadable.append(str(images[position].path))
                else:
                    packer.add(position, encoded, images[position].label, skipped)
                progress()
        packer.close(len(images), skipped)
    finally:
        if packer.writer is not None:
            packer.writer.abandon()
    return unreadable


def _remove_partial_shards(folder: Path) -> None:
    for partial in folder.glob(".*.tar.partial"):
        partial.unlink()


def _finished_pack(folder: Path, settings: dict[str, Any]) -> ShardIndex | None:
    if not index_path(folder).is_file():
        return None
    index = read_index(folder)
    if index.settings != settings:
        raise InputError(
            f"{folder} already holds a finished pack of another source or other settings; "
            "pack into another folder"
        )
    shards = [shard for split_shards in index.splits.values() for shard in split_shards]
    broken = [shard.name for shard in shards if not shard_is_intact(folder, shard)]
    if broken:
        raise InputError(f"{folder}: {broken[0]} does not match its sha256; pack into a new folder")
    return index


def pack(source: Path, destination: Path, settings: PackSettings, console: Console) -> ShardIndex:
    """Pack SRC's splits into shards under DST (module docstring); the index written."""
    plan = plan_pack(source, settings.limit)
    recorded = settings.record(source, plan)
    destination.mkdir(parents=True, exist_ok=True)
    finished = _finished_pack(destination, recorded)
    if finished is not None:
        console.print(f"{escape(str(destination))} already holds this pack; every shard verified")
        return finished
    _remove_partial_shards(destination)
    done = _load_progress(destination, recorded)
    resumed = sum(len(p.shards) for p in done.values())
    if resumed:
        console.print(f"resuming: {resumed} finished shards kept, each verified by its sha256")
    total = sum(len(images) for images in plan.splits.values())
    skipped: dict[str, int] = {}
    with Progress(console=console, transient=not console.is_terminal) as bar:
        task = bar.add_task("packing", total=total)
        for split, images in plan.splits.items():
            progress = done.setdefault(split, SplitProgress())
            bar.advance(task, progress.consumed[-1] if progress.consumed else 0)
            packer = SplitPacker(
                destination,
                split,
                settings.shard_bytes,
                progress,
                save=lambda: _save_progress(destination, recorded, done),
            )
            unreadable = _pack_split(packer, images, settings, lambda: bar.advance(task))
            for path in unreadable:
                console.print(
                    f"[yellow]left out, cannot be decoded or over the pixel limit: {escape(path)}[/]"
                )
            skipped[split] = progress.skipped[-1] if progress.skipped else 0
    shards = {split: progress.shards for split, progress in done.items()}
    index = ShardIndex(plan.classes, plan.num_classes, shards, recorded, skipped)
    _check_counts(index, plan)
    write_index(destination, index)
    (destination / PROGRESS_FILE).unlink(missing_ok=True)
    return index


def _check_counts(index: ShardIndex, plan: PackPlan) -> None:
    for split, images in plan.splits.items():
        packed, skipped = index.samples(split), index.skipped.get(split, 0)
        if packed + skipped != len(images):
            raise RuntimeError(
                f"{split}: {packed} packed and {skipped} unreadable, but {len(images)} found"
            )


def describe(index: ShardIndex) -> list[str]:
    """One line per split: samples, shards, bytes, unreadable images left out."""
    lines = []
    for split, shards in index.splits.items():
        size = sum(shard.bytes for shard in shards) / 1e6
        lines.append(
            f"{split}: {index.samples(split)} images in {len(shards)} shards, {size:.1f} MB"
            + (f", {index.skipped[split]} unreadable left out" if index.skipped.get(split) else "")
        )
    return lines
