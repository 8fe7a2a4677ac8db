"""Who owns a run directory: its atomic creation, the id it takes from a launcher, and the lock
that lets one trainer at a time write into it. Standard library only (the CLI checks locks).

- A new run directory is created with one `mkdir`, which fails if the name is taken: two runs
  started in the same second get `<id>` and `<id>-1`, never one directory between them.
- An id from the environment (`INCEPTION_RUN_ID`, `SLURM_JOB_ID`, `TORCHELASTIC_RUN_ID`) names
  the directory every rank of one launch must agree on. An existing directory of that name is
  reused only when it is the same run continuing (a requeued job: not finished, not locked, a
  last checkpoint, the same config); otherwise the run takes a new name beside it.
- Ranks started by an outside launcher (srun, torchrun) other than global rank 0 do not choose:
  they read the name rank 0 chose from `<runs dir>/.claims/<launch key>`, written after this
  launch started (a marker left by an earlier launch that reused the id is not read).
- While it trains, the owner holds an exclusive `flock` on `<run dir>/.lock`, which names its
  host and pid; the lock dies with the process, so a killed run never leaves a stale one.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inception_cli.rundir import layout
from inception_cli.rundir.durable import atomic_write_text

LOCK = ".lock"
CLAIMS = ".claims"
# Global rank (torchrun, srun), then the node and local ranks of Lightning's own DDP launcher.
RANK_VARIABLES = ("RANK", "SLURM_PROCID")
LOCAL_RANK_VARIABLES = ("NODE_RANK", "LOCAL_RANK")


class RunLocked(Exception):
    """Another live process owns the run directory; the message names the run, host and pid."""


def launcher_id(model_name: str) -> str | None:
    """The run name an outside launcher gives every rank of one launch, if any."""
    explicit = os.environ.get("INCEPTION_RUN_ID")
    if explicit:
        return explicit
    slurm_job = os.environ.get("SLURM_JOB_ID")
    if slurm_job:
        return f"slurm-{slurm_job}_{model_name}"
    rdzv = os.environ.get("TORCHELASTIC_RUN_ID")
    if rdzv and rdzv != "none":
        return f"{rdzv}_{model_name}"
    return None


def global_rank() -> int:
    """This process's global rank; for Lightning-launched ranks, nonzero when not rank 0."""
    for variable in RANK_VARIABLES:
        value = os.environ.get(variable)
        if value and value.isdigit():
            return int(value)
    return sum(int(os.environ.get(v, "0") or 0) for v in LOCAL_RANK_VARIABLES)


def launch_key(name: str) -> str:
    """Tells apart launches that share an id: the steps of one SLURM job, and its requeues."""
    step = os.environ.get("SLURM_STEP_ID", "batch")
    restart = os.environ.get("SLURM_RESTART_COUNT", "0")
    return f"{name}.step-{step}.restart-{restart}"


def claim_new_dir(parent: Path, base: str) -> Path:
    """Create `parent/base`, or base-1, base-2 ... with one atomic mkdir each, and return it."""
    parent.mkdir(parents=True, exist_ok=True)
    number = 0
    while True:
        candidate = parent / (base if number == 0 else f"{base}-{number}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            number += 1


def is_continuation(run_dir: Path, same_config: Callable[[Any], bool]) -> bool:
    """An existing directory is this run continuing: unfinished, unlocked, a checkpoint (last or
    previous), and a saved config that `same_config` accepts."""
    summary = layout.read_summary(run_dir) or {}
    if summary.get("status") == "finished" or not layout.has_checkpoint(run_dir):
        return False
    if lock_holder(run_dir) is not None:
        return False
    try:
        return same_config(layout.load_config(run_dir))
    except (OSError, ValueError):
        return False


def choose_run_name(
    runs_dir: Path, model_name: str, same_config: Callable[[Any], bool] = lambda _: False
) -> str:
    """The run directory name for a new run of `model_name` under `runs_dir`, created here.

    A launcher id is reused for the same run continuing (see `is_continuation`)."""
    wanted = launcher_id(model_name)
    marker = runs_dir / CLAIMS / launch_key(wanted) if wanted is not None else None
    if marker is not None and global_rank() > 0:
        return wait_for_rank_zero(marker, "the run directory")
    if marker is not None:  # rank 0: a marker from an earlier launch must not be read by ours
        marker.unlink(missing_ok=True)
    if wanted is not None and is_continuation(runs_dir / wanted, same_config):
        name = wanted
    else:
        base = wanted or f"{time.strftime('%Y-%m-%d_%H-%M-%S')}_{model_name}"
        name = claim_new_dir(runs_dir, base).name
    if marker is not None:
        atomic_write_text(marker, name)
    return name


# How much earlier than this process rank 0 of the same launch may have written its choice:
# ranks of one launch start within seconds of each other, a marker older than this is a stale
# one from an earlier launch that reused the id.
LAUNCH_SPREAD_S = 120.0


def process_started_at() -> float:
    """When this process started (Linux: its /proc entry's time), else now."""
    try:
        return Path(f"/proc/{os.getpid()}").stat().st_ctime
    except OSError:
        return time.time()


def read_fresh(marker: Path) -> str | None:
    """What rank 0 of this launch wrote into `marker`; None while only a stale one is there."""
    try:
        if marker.stat().st_mtime < process_started_at() - LAUNCH_SPREAD_S:
            return None
        return marker.read_text().strip() or None
    except OSError:
        return None


def wait_for_rank_zero(marker: Path, what: str, timeout_s: float = 300.0) -> str:
    """What rank 0 chose and wrote into `marker`, as the other ranks of its launch read it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (chosen := read_fresh(marker)) is not None:
            return chosen
        time.sleep(0.2)
    raise TimeoutError(f"rank 0 did not choose {what} within {timeout_s:.0f} s ({marker})")


class RunLock:
    """An exclusive lock on a run directory for as long as this process trains in it."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.run_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunLocked(locked_message(self.run_dir)) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"host": socket.gethostname(), "pid": os.getpid()}).encode())
        self._fd = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def lock_holder(run_dir: Path) -> dict[str, Any] | None:
    """Host and pid of the process that holds the run's lock now; None when nobody does."""
    path = run_dir / LOCK
    if not path.is_file():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = json.loads(path.read_text() or "{}")
            except ValueError:
                holder = {}
            return holder if isinstance(holder, dict) else {}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def locked_message(run_dir: Path) -> str:
    holder = lock_holder(run_dir) or {}
    who = f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}"
    return (
        f"run {run_dir} is in use by another trainer ({who}); wait for it to finish "
        "or stop it before resuming"
    )
