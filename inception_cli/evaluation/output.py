"""The file an evaluation's result goes to, chosen and created before any network is loaded or
image read, so that an output that cannot be written fails at once, not after an hour of
forward passes.

The file is created empty and held under an exclusive lock (`lockf`) while the evaluation runs:
a second evaluation that picks the same name finds it locked and takes the next free one
(`…-1.json`, `…-2.json`). It is created under a temporary name, locked, and only then linked to
its final name (which fails if the name exists), so no other process ever sees it unlocked. An
empty file that nobody holds is what a killed evaluation leaves: running the same command
again takes it over. A file with content is never touched. The lock is a POSIX record lock,
which belongs to this process alone: the loader's worker processes, forked from it, do not
inherit it, so that one left running briefly after a kill does not hold the name. Such a lock
is also released when this process closes any handle of the file, so the files this process
holds are remembered and never opened a second time.

The predictions go beside the result (`predictions_path`: `r.json` -> `r.npz`; a result named
`r.npz` -> `r.predictions.npz`), and that name is taken with the result's: a name whose
predictions file exists with content is passed over, so an evaluation never writes over a file,
its own result included.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from inception_cli.errors import InputError
from inception_cli.rundir import layout
from inception_cli.rundir.durable import atomic_write_text
from inception_cli.rundir.outputs import cannot_write, numbered, requested_path

_HELD: set[Path] = set()  # the result files this process holds


@dataclass
class ReservedOutput:
    """The result file of this evaluation, created empty and locked."""

    path: Path
    handle: IO[Any]

    def write(self, text: str) -> None:
        """Replace the empty reservation with the result, in one step."""
        atomic_write_text(self.path, text)

    def release(self) -> None:
        """Unlock; remove the file, and its predictions' name, if nothing was written."""
        try:
            for path in (self.path, predictions_path(self.path)):
                if path.is_file() and not path.is_symlink() and path.stat().st_size == 0:
                    path.unlink()
        finally:
            self.handle.close()
            _HELD.discard(self.path.absolute())


def predictions_path(result: Path) -> Path:
    """Each image's top-5 classes, beside the JSON result: `<result>.npz`, or
    `<result>.predictions.npz` when the result itself ends in .npz."""
    beside = result.with_suffix(".npz")
    return beside if beside != result else result.with_name(f"{result.stem}.predictions.npz")


def _predictions_name_free(candidate: Path) -> bool:
    """No predictions file beside `candidate`, or an empty one a killed evaluation left."""
    companion = predictions_path(candidate)
    if companion.is_symlink():
        return False
    return not companion.exists() or companion.is_file() and companion.stat().st_size == 0


def _cannot_write(path: Path, error: OSError) -> InputError:
    return cannot_write(path, error, "the result", "choose another --output")


def _take_over_abandoned(candidate: Path) -> IO[Any] | None:
    """The locked handle of an empty result file that no running evaluation holds, else None."""
    if candidate.absolute() in _HELD:
        return None
    try:
        handle = candidate.open("r+")
    except OSError:
        return None
    try:
        fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.fstat(handle.fileno()).st_size == 0 and candidate.stat().st_size == 0:
            return handle
    except OSError:
        pass
    handle.close()
    return None


def _create_locked(candidate: Path) -> IO[Any] | None:
    """Create `candidate` empty and locked; None if the name is taken meanwhile."""
    staging = candidate.with_name(f".{candidate.name}.{os.getpid()}.reserving")
    handle = staging.open("w")
    try:
        fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.link(staging, candidate)
    except FileExistsError:
        handle.close()
        return None
    except BaseException:
        handle.close()
        raise
    finally:
        staging.unlink(missing_ok=True)
    return handle


def reserve(path: Path) -> ReservedOutput:
    """Create `path` (or `path-1`, `path-2` … when taken) empty and locked for this evaluation.
    InputError, at once, when the folder cannot be made or written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _cannot_write(path, error) from None
    for candidate in numbered(path):
        if not _predictions_name_free(candidate):
            continue
        if candidate.exists() or candidate.is_symlink():
            handle = _take_over_abandoned(candidate) if candidate.is_file() else None
        else:
            try:
                handle = _create_locked(candidate)
            except OSError as error:
                raise _cannot_write(candidate, error) from None
        if handle is not None:
            _HELD.add(candidate.absolute())
            reservation = ReservedOutput(candidate, handle)
            try:
                predictions_path(candidate).touch()  # the predictions' name, taken with it
            except OSError as error:
                reservation.release()
                raise _cannot_write(predictions_path(candidate), error) from None
            return reservation
    raise AssertionError("numbered() yields names without end")


@contextmanager
def reserved_output(output: Path | None, default: Path) -> Iterator[ReservedOutput]:
    """The reservation for the duration of an evaluation, released however it ends."""
    reservation = reserve(requested_path(output, default))
    try:
        yield reservation
    finally:
        reservation.release()


def default_result_path(
    members: Sequence[Path | dict[str, str]], crops: int, runs_root: Path | None
) -> Path:
    """Where the result goes without --output: the first run's eval/, else eval/ beside the
    runs (published weights alone, named after the first tag)."""
    name = f"{crops}crop" + ("_ensemble" if len(members) > 1 else "")
    run_dir = next((spec for spec in members if isinstance(spec, Path)), None)
    if run_dir is not None:
        return layout.eval_dir(run_dir) / f"{name}.json"
    first = members[0]
    assert isinstance(first, dict) and runs_root is not None
    tag = first["weights"].removeprefix("timm:")
    return layout.eval_dir(runs_root) / f"{name}_{tag}.json"
