"""Writing files so that a kill or a host crash never leaves a torn or half-written one.

A file is written beside its target under a temporary name, flushed to disk (fsync), renamed
over the target in one step, and the directory is flushed too, so that the rename itself survives
a power loss. Standard library only: `compare` and the CLI use these without torch.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any


def fsync_dir(folder: Path) -> None:
    """Make renames and new entries in `folder` durable (a no-op where directories cannot be
    opened, as on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def durable_replace(
    path: Path, before_replace: Callable[[Path], object] | None = None
) -> Iterator[Path]:
    """Yields a temporary path to write; on success it is fsync'd and renamed over `path`
    (`before_replace(path)` runs once the new file is whole on disk, just before the rename).
    On an error the temporary file is removed and `path` is left as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        with tmp.open("rb+") as written:
            os.fsync(written.fileno())
        if before_replace is not None:
            before_replace(path)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def write_durably(path: Path, write: Callable[[IO[Any]], object], *, text: bool = True) -> None:
    """Replace `path` with what `write(file)` writes, durably and in one step."""
    with durable_replace(path) as tmp:
        mode = "w" if text else "wb"
        kwargs: dict[str, Any] = {"encoding": "utf-8", "newline": ""} if text else {}
        with tmp.open(mode, **kwargs) as file:
            write(file)


def atomic_write_text(path: Path, text: str) -> None:
    """Readers never see a half-written file, even if the writer is killed."""
    write_durably(path, lambda file: file.write(text))
