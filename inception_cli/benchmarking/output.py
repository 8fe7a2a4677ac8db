"""Where `inception bench` writes its JSON record: decided, and the file created, before
anything is measured, so that a path that cannot be written fails at once rather than after
minutes of timing, and so that two benches started together never pick the same file."""

from __future__ import annotations

import itertools
import os
from datetime import datetime
from pathlib import Path

from inception_cli.errors import InputError
from inception_cli.rundir.outputs import cannot_write, numbered, requested_path

BENCH_DIR = Path("runs") / "bench"
FIX = "pass --output with a writable folder or file name"
MAX_SUFFIX = 10_000  # more taken names than any folder of records holds: something else is wrong


def default_name(model: str, mode: str) -> str:
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    return f"{model}-{mode}-{stamp}.json"


def output_path(model: str, mode: str, output: Path | None) -> Path:
    """The file asked for: --output, a new file in --output when it is a folder, or
    runs/bench/<model>-<mode>-<time>.json. `claim_output` adds a suffix if it is taken."""
    return requested_path(output, BENCH_DIR / default_name(model, mode))


def claim_output(model: str, mode: str, output: Path | None) -> Path:
    """Create the record's file, empty, under a name no other file has (path, path-1, path-2
    ...: created with O_EXCL, so a name another bench took meanwhile is passed over, never
    overwritten). InputError, in one line, when it cannot be created."""
    path = output_path(model, mode, output)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for candidate in itertools.islice(numbered(path), MAX_SUFFIX):
            try:
                os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            except FileExistsError:
                continue
            return candidate
    except OSError as error:
        raise cannot_write(path, error, "the figures", FIX) from None
    raise InputError(f"cannot write the figures to {path}: {MAX_SUFFIX} names beside it taken")


def release_output(path: Path) -> None:
    """Remove the file `claim_output` created when no record went into it (the bench failed
    or was interrupted): an empty file would read as a broken record."""
    try:
        if path.stat().st_size == 0:
            path.unlink()
    except OSError:
        pass
