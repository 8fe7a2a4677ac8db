"""Checkpoints a killed run can always continue from, and that can never run code when loaded.

- Written durably: a temporary file, fsync, rename, fsync of the folder (rundir/durable.py).
  Only once the new file is whole on disk does the old last.ckpt become previous.ckpt (a hard
  link, so last.ckpt never goes missing in between), so a kill or a host crash at any moment
  leaves a checkpoint to continue from. A write that fails (a full disk, an I/O error) leaves
  both as they were and ends the run with one line.
- Everything saved loads with `torch.load(weights_only=True)`: tensors, numbers, strings and
  containers of them. The random-number states (dropout) are saved as tensors and lists.
- last.ckpt is written every `every_n_train_steps` optimizer steps (not micro-batches) and at
  every epoch end.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from inception_cli.errors import InputError
from inception_cli.rundir import claims, layout
from inception_cli.rundir.checkpoints import load_checkpoint
from inception_cli.rundir.durable import atomic_write_text, durable_replace, fsync_dir

log = logging.getLogger(__name__)


class DurableCheckpointIO(TorchCheckpointIO):
    """Saves durably; keeps the last checkpoint before the newest as previous.ckpt."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None
    ) -> None:
        target = Path(path)
        try:
            with durable_replace(target, before_replace=keep_previous) as tmp:
                torch.save(checkpoint, tmp)
        except (OSError, RuntimeError) as err:  # torch reports a failed write as RuntimeError
            raise CheckpointNotWritten(target, err) from None
        fsync_dir(target.parent)

    def load_checkpoint(
        self, path: Any, map_location: Any | None = None, weights_only: bool | None = None
    ) -> dict[str, Any]:
        return load_checkpoint(Path(path), map_location=map_location)


class CheckpointNotWritten(OSError):
    """A checkpoint could not be written; the ones already on disk are whole and kept."""

    def __init__(self, path: Path, cause: BaseException) -> None:
        reason = str(cause).strip().splitlines()[-1] if str(cause).strip() else type(cause).__name__
        number = cause.errno if isinstance(cause, OSError) else None
        super().__init__(
            number,
            f"cannot write {path.name} ({reason}); the checkpoints already in {path.parent} are "
            "kept: free space there (or fix the disk) and continue with resume=",
        )
        self.path = path


def keep_previous(target: Path) -> None:
    """Before a whole new last.ckpt replaces the old one, keep the old one as previous.ckpt."""
    if target.stem == layout.LAST and target.exists():
        previous = target.with_name(f"{layout.PREVIOUS}.ckpt")
        link = previous.with_name(f".{previous.name}.{os.getpid()}.link")
        link.unlink(missing_ok=True)
        try:
            os.link(target, link)  # last.ckpt stays in place until the new one replaces it
        except OSError:  # a file system without hard links: a copy takes the same place
            shutil.copyfile(target, link)
        os.replace(link, previous)


def readable_step(path: Path) -> int | None:
    """The optimizer step of a checkpoint that loads; None for a missing or torn one. One that
    would run code when loaded is refused (InputError), not passed over."""
    if not path.is_file():
        return None
    try:
        # mmap: the step is enough here; Lightning reads the tensors when it restores the run
        return int(load_checkpoint(path, mmap=True).get("global_step", 0))
    except (RuntimeError, OSError, EOFError, ValueError) as err:
        log.debug("unreadable checkpoint %s: %s", path, err)
        return None


def resume_checkpoint(run_dir: Path) -> tuple[Path, int]:
    """The newest checkpoint of the run that loads, and its step: last.ckpt, else previous.ckpt
    (a host crash may have truncated the newest one)."""
    last, previous = (
        layout.checkpoint(run_dir, layout.LAST),
        layout.checkpoint(run_dir, layout.PREVIOUS),
    )
    step = readable_step(last)
    if step is not None:
        return last, step
    step = readable_step(previous)
    if step is None:
        raise InputError(f"{run_dir} has no readable checkpoint to resume from; start a new run")
    print(f"warning: {last} is unreadable; resuming from {previous.name} (step {step})", flush=True)
    return previous, step


RESUME_CHOICE = ".resume_from"  # in checkpoints/: the checkpoint rank 0 chose, for the others


def agreed_resume_checkpoint(run_dir: Path) -> tuple[Path, int]:
    """The checkpoint every rank continues from: the one global rank 0 chose (`resume_checkpoint`),
    so that ranks that read a half-written or unreadable file differently still agree."""
    marker = layout.checkpoints_dir(run_dir) / RESUME_CHOICE
    if claims.global_rank() == 0:
        path, step = resume_checkpoint(run_dir)
        atomic_write_text(marker, json.dumps({"checkpoint": path.name, "step": step}))
        return path, step
    chosen = json.loads(claims.wait_for_rank_zero(marker, "the checkpoint to resume from"))
    return layout.checkpoints_dir(run_dir) / str(chosen["checkpoint"]), int(chosen["step"])


class LastCheckpoint(pl.Callback):
    """checkpoints/last.ckpt every `every_n_train_steps` optimizer steps and at every epoch end."""

    def __init__(self, run_dir: Path, every_n_train_steps: int) -> None:
        self.path = layout.checkpoint(run_dir, layout.LAST)
        self.every = every_n_train_steps
        self.saved_step = -1

    def save(self, trainer: pl.Trainer) -> None:
        trainer.save_checkpoint(self.path, weights_only=False)
        self.saved_step = trainer.global_step

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        # Under gradient accumulation the step stays the same over several micro-batches.
        step = trainer.global_step
        if self.every > 0 and step % self.every == 0 and step != self.saved_step:
            self.save(trainer)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.save(trainer)


class RandomState(pl.Callback):
    """Saves the random-number generators of every rank with every checkpoint and restores them
    on resume, so dropout draws the same masks as in a run never interrupted. The data order and
    the augmentation do not use these generators (see training/sampling.py).

    The saved state is put back just before the first training step after the resume, so that
    nothing Lightning does while it restores the run can draw from the generators in between."""

    def __init__(self) -> None:
        self.pending: list[dict[str, Any]] | None = None

    def on_train_batch_start(self, trainer: pl.Trainer, *args: Any) -> None:
        if self.pending is not None:
            rank = trainer.global_rank
            if rank < len(self.pending):
                restore_random_state(self.pending[rank])
            self.pending = None

    def state_dict(self) -> dict[str, Any]:
        state = random_state()
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            every_rank: list[Any] = [None] * torch.distributed.get_world_size()
            torch.distributed.all_gather_object(every_rank, state)
            return {"ranks": every_rank}
        return {"ranks": [state]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.pending = list(state_dict["ranks"])


def random_state() -> dict[str, Any]:
    """This process's generators as plain lists and numbers (they travel between ranks and load
    with weights_only=True)."""
    kind, keys, *rest = np.random.get_state(legacy=True)
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    return {
        "torch": torch.get_rng_state().tolist(),
        "cuda": [state.tolist() for state in cuda],
        "numpy": [kind, np.asarray(keys).tolist(), *rest],
        "python": _python_state_to_plain(random.getstate()),
    }


def restore_random_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(torch.tensor(state["torch"], dtype=torch.uint8))
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([torch.tensor(s, dtype=torch.uint8) for s in state["cuda"]])
    kind, keys, *rest = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), *rest))
    random.setstate(_python_state_from_plain(state["python"]))


def _python_state_to_plain(state: tuple[Any, ...]) -> list[Any]:
    version, internal, gauss = state
    return [version, list(internal), gauss]


def _python_state_from_plain(state: list[Any]) -> tuple[Any, ...]:
    version, internal, gauss = state
    return (version, tuple(internal), gauss)
