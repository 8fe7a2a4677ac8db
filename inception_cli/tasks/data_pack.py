"""`inception data pack SRC DST`: an image folder into tar shards (inception_cli/data/packing.py,
docs/data.md)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from inception_cli.data.packing import PackSettings, describe, pack, parse_size
from inception_cli.errors import InputError
from inception_cli.rundir.claims import RunLock, RunLocked, lock_holder


def run_pack(
    source: Path,
    destination: Path,
    *,
    max_side: int | None,
    shard_size: str,
    workers: int | None,
    limit: int | None,
    console: Console | None = None,
) -> None:
    """Check the options, pack, and say what was written."""
    if max_side is not None and max_side < 32:
        raise InputError(f"--max-side {max_side} is too small; use 32 or more (e.g. 320)")
    if limit is not None and limit < 1:
        raise InputError(f"--limit {limit} must be at least 1")
    if workers is not None and workers < 0:
        raise InputError(f"--workers {workers} must be 0 (encode in this process) or more")
    if source.resolve() == destination.resolve():
        raise InputError("SRC and DST are the same folder; pack into a new one")
    settings = PackSettings(
        max_side=max_side,
        shard_bytes=parse_size(shard_size),
        limit=limit,
        workers=(os.cpu_count() or 1) if workers is None else workers,
    )
    console = console or Console()
    start = time.perf_counter()
    with owned(destination):
        index = pack(source, destination, settings, console)
    for line in describe(index):
        console.print(line)
    console.print(
        f"wrote {escape(str(destination / 'index.json'))} in {time.perf_counter() - start:.1f} s; "
        f"train with: inception train data=shards data.root={escape(str(destination))} "
        f"data.num_classes={index.num_classes}"
    )


@contextlib.contextmanager
def owned(destination: Path) -> Iterator[None]:
    """One `data pack` at a time writes into DST: a second one is refused while the first runs
    (the lock dies with its process, so a killed pack can be continued at once)."""
    try:
        destination.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create {destination}: {err.strerror}; pack elsewhere") from None
    lock = RunLock(destination)
    try:
        lock.acquire()
    except RunLocked:
        holder = lock_holder(destination) or {}
        raise InputError(
            f"{destination} is being packed by pid {holder.get('pid', '?')} on "
            f"{holder.get('host', '?')}; wait for it to finish or stop it first"
        ) from None
    try:
        yield
    finally:
        lock.release()
