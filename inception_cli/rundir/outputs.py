"""Outputs that never replace an earlier one: the numbered names beside a taken name, and the
one line that says a place cannot be written. `inception eval`, `bench` and `compare` settle
their output with these before any work begins (torch-free)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from inception_cli.errors import InputError


def numbered(path: Path) -> Iterator[Path]:
    """`path`, then path-1, path-2 ... beside it (the suffix stays last)."""
    yield path
    number = 1
    while True:
        yield path.with_name(f"{path.stem}-{number}{path.suffix}")
        number += 1


def cannot_write(path: Path, error: OSError, what: str, fix: str) -> InputError:
    """The one-line error for `what` (e.g. "the result") that cannot be written to `path`,
    naming the file that stands where a folder should be, if that is the reason."""
    reason = error.strerror or type(error).__name__
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        reason = f"{blocking} is a file, not a folder"
    return InputError(f"cannot write {what} to {path}: {reason}; {fix}")


def requested_path(output: Path | None, default: Path) -> Path:
    """--output, or the default name inside it when it names an existing folder."""
    if output is None:
        return default
    return output / default.name if output.is_dir() else output
