"""The one exception type that the CLI turns into a single line and exit status 2, and the one
line, with its exit status, that every other failure of a command gets (`report_failure`).

Exit statuses: 2 the input (fix the command: a bad value, a path that cannot work, a `_target_`
that cannot be built), 4 a fault of the machine (a full disk, permissions, an I/O error, no
file locks, a process that could not start or died, no memory: fix the machine and run the same
command again), 1 anything else (a fault of the tool itself). A traceback is printed only with
INCEPTION_DEBUG=1. Leaf module: the standard library only.
"""

from __future__ import annotations

import errno
import os
import re
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

INPUT_EXIT_STATUS = 2
FAULT_EXIT_STATUS = 4
INTERNAL_EXIT_STATUS = 1
DEBUG_VARIABLE = "INCEPTION_DEBUG"
DEBUG_HINT = f"({DEBUG_VARIABLE}=1 shows the traceback)"
# A path that can never work: the command has to name another one.
PATH_ERRNOS = {errno.ENOTDIR, errno.EISDIR, errno.ENOENT, errno.ENAMETOOLONG, errno.ELOOP}
# A process that could not start or died (multiprocessing, concurrent.futures,
# torch.multiprocessing), by class name: none of those packages is imported here.
PROCESS_FAILURES = {
    "BrokenProcessPool",
    "ProcessError",
    "ProcessExitedException",
    "ProcessRaisedException",
}
CONFIG_LIBRARIES = ("hydra", "omegaconf")
RETRY = "run the same command again"


class InputError(Exception):
    """Bad input from the user. The message says what is wrong and what to do, in one line."""


def first_line(err: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


@dataclass(frozen=True)
class Failure:
    status: int
    message: str  # one line, without the leading "error: "


def _library(err: BaseException) -> str:
    return type(err).__module__.split(".")[0]


def _chain(err: BaseException) -> Iterator[BaseException]:
    """`err` and what caused it. Hydra and OmegaConf wrap what a resolver or a `_target_`
    raised and keep it as the context, not the cause: it is followed there too."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        following = current.__cause__
        if following is None and _library(current) in CONFIG_LIBRARIES:
            following = current.__context__
        current = following


def _blocking_file(path: Path) -> Path | None:
    return next((p for p in path.parents if p.exists() and not p.is_dir()), None)


def _os_advice(err: OSError, names: str) -> str:
    """What happened and what to do, for the errors a disk, a file system or the kernel give."""
    code, at = err.errno, f": {names}" if names else ""
    if code in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left on the disk{at}; free space there or write elsewhere, then {RETRY}"
    if code in (errno.EACCES, errno.EPERM):
        return f"permission denied{at}; give this user access to it or choose another place"
    if code == errno.EROFS:
        return f"read-only file system{at}; choose a writable place"
    if code == errno.ENOTDIR and names:
        blocking = _blocking_file(Path(os.fsdecode(err.filename)))
        reason = f"{blocking} is a file, not a folder" if blocking else "a part is not a folder"
        return f"cannot use {names}: {reason}; choose a path under a folder"
    if code == errno.EIO:
        return (
            f"input/output error{at}: the disk or the file system failed; check it (dmesg), "
            f"then {RETRY}"
        )
    if code == errno.ENOLCK:
        return (
            f"the file system gives no file locks{at} (an NFS mount without its lock service?); "
            "use a folder on a file system with locking"
        )
    if code in (errno.EMFILE, errno.ENFILE):
        return f"too many open files{at}; raise the limit (ulimit -n) or use fewer workers"
    if code in (errno.ENOMEM, errno.EAGAIN):
        return (
            f"the machine could not start a process or allocate memory{at}; use fewer processes "
            f"or loader workers, or free memory, then {RETRY}"
        )
    reason = err.strerror or first_line(err)
    if code in PATH_ERRNOS:
        return f"{reason}{at}; check the path"
    name = errno.errorcode.get(code, "") if code is not None else ""
    return f"{reason}{f' ({name})' if name else ''}{at}; check the machine, then {RETRY}"


def _os_failure(err: OSError) -> Failure:
    names = " -> ".join(os.fsdecode(p) for p in (err.filename, err.filename2) if p is not None)
    status = INPUT_EXIT_STATUS if err.errno in PATH_ERRNOS else FAULT_EXIT_STATUS
    # The tool's own OSErrors (a checkpoint not written) carry their advice already.
    own = _library(err) == "inception_cli"
    said = (err.strerror or first_line(err)) if own else _os_advice(err, names)
    return Failure(status, f"{said} {DEBUG_HINT}")


def _innermost(err: BaseException) -> BaseException:
    while err.__cause__ is not None:
        err = err.__cause__
    return err


def _instantiation_failure(err: BaseException) -> Failure:
    """Hydra's lines (target, exception, full_key, HYDRA_FULL_ERROR) as one."""
    text = str(err)
    key = re.search(r"^\s*full_key:\s*(\S+)", text, re.MULTILINE)
    target = re.search(r"target '([^']+)'", text)
    what = key.group(1) if key else "an object of the config"
    built = f"{what} ({target.group(1)})" if target else what
    inner = _innermost(err) if err.__cause__ is not None else err
    reason = first_line(inner) if inner is err else f"{type(inner).__name__}: {first_line(inner)}"
    return Failure(
        INPUT_EXIT_STATUS,
        f"cannot build {built}: {reason}; fix or remove the overrides of {what} {DEBUG_HINT}",
    )


def _special_failure(link: BaseException) -> Failure | None:
    """The failures a link of the chain identifies by itself, whatever wraps it."""
    if _library(link) in CONFIG_LIBRARIES:
        return None  # a wrapper (Hydra's MissingConfigException is an OSError without errno)
    if isinstance(link, InputError):
        return Failure(INPUT_EXIT_STATUS, first_line(link))
    if isinstance(link, OSError):
        return _os_failure(link)
    name = type(link).__name__
    if isinstance(link, MemoryError) or name == "OutOfMemoryError":
        return Failure(
            FAULT_EXIT_STATUS,
            f"out of memory ({first_line(link)}); lower data.batch_size (--batch-size), use "
            f"fewer loader workers or processes, or free memory, then {RETRY} {DEBUG_HINT}",
        )
    if name in PROCESS_FAILURES or str(link).startswith("DataLoader worker"):
        lines = [line.strip() for line in str(link).splitlines() if line.strip()]
        return Failure(
            FAULT_EXIT_STATUS,
            f"a worker process failed ({lines[-1] if lines else name}); it may have run out of "
            f"memory (dmesg says): use fewer processes or loader workers, then {RETRY} "
            f"{DEBUG_HINT}",
        )
    return None


def describe_failure(err: BaseException) -> Failure:
    """The exit status of `err` and its one line: what is wrong and what to do."""
    for link in _chain(err):
        special = _special_failure(link)
        if special is not None:
            return special
    if type(err).__name__ in ("InstantiationException", "InstantiationError"):
        return _instantiation_failure(err)
    if _library(err) in CONFIG_LIBRARIES or type(err).__name__ == "MisconfigurationException":
        key = getattr(err, "full_key", None)
        at = f" (at {key})" if key else ""
        return Failure(
            INPUT_EXIT_STATUS,
            f"{first_line(err)}{at}; fix the override or the config it names {DEBUG_HINT}",
        )
    return Failure(
        INTERNAL_EXIT_STATUS,
        f"{type(err).__name__}: {first_line(err)}: a fault of inception itself; "
        f"{DEBUG_VARIABLE}=1 shows the traceback to report",
    )


def debugging() -> bool:
    return os.environ.get(DEBUG_VARIABLE, "") not in ("", "0")


def report_failure(err: BaseException, failure: Failure | None = None) -> int:
    """Print `err` as one line on stderr (after its traceback with INCEPTION_DEBUG=1); returns
    the exit status it calls for."""
    if isinstance(err, BrokenPipeError) and failure is None:
        # `inception models | head`: the reader has what it wanted; nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return INTERNAL_EXIT_STATUS
    failure = failure or describe_failure(err)
    if debugging():
        traceback.print_exception(err)
    print(f"error: {failure.message}", file=sys.stderr, flush=True)
    return failure.status
