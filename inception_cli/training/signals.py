"""Stopping cleanly on SIGTERM, SIGINT, SIGUSR1 and SIGUSR2 (`kill`, Ctrl+C, a scheduler's
warning), whenever the signal comes.

From the first line of `train` (loop.py) to the end of fit these signals are only noted, and
the run stops at the next safe point, with last.ckpt at the optimizer step reached:

- during start-up: where training would begin (last.ckpt at step 0, or at the step resumed from);
- during a training step: once its optimizer step is taken;
- during validation: after the current validation batch. That validation is dropped (nothing of
  it is logged or recorded) and last.ckpt holds the step before it; a resumed run validates the
  epoch again;
- during a checkpoint write: once the file is whole. Noting a signal never breaks into a write,
  and a second Ctrl+C, which otherwise stops at once, waits for the write to finish.

`RunInterrupted` then leaves the Trainer, summary.json says `interrupted` with the step, and the
task prints how to resume. The first signal is the one reported (a scheduler's warning followed by
its SIGTERM still requeues); one that comes after the last point where the run could stop is let
go, and the run finishes. These handlers stand in for Lightning's and submitit's, so that one
piece of code acts on a signal: after a scheduler's warning the task requeues its SLURM job
(training/cluster.py), and the restarted job continues the run.

Every rank stops at the same step. The ranks agree where each passes the same number of times:
at the start of training, after every optimizer step, at the end of an epoch's training and at
the end of a validation (not after each validation batch: the ranks' shares of the validation
set may differ by a batch, so a rank that got the signal ends its validation early and waits
there for the others). Rank 0 of a job started on one machine passes a SIGTERM, SIGUSR1 or
SIGUSR2 on to the ranks it started; Ctrl+C reaches them all by itself.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import lightning.pytorch as pl
from lightning.fabric.plugins import CheckpointIO

from inception_cli.training.checkpointing import LastCheckpoint

# SIGUSR1/SIGUSR2: SLURM's warning ahead of a time limit or preemption (`--signal`, submitit's).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2)
FORWARDED = (signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2)


class RunInterrupted(Exception):
    """A stop signal ended the run after a checkpoint; it can be resumed from there."""

    def __init__(self, signum: int, step: int) -> None:
        self.signum = signum
        self.step = step
        super().__init__(f"stopped by {signal.Signals(signum).name} at step {step}")

    @property
    def exit_status(self) -> int:
        return 128 + self.signum

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name


@dataclass
class Noted:
    """What the handlers saw; one per process, as signal handlers are."""

    signum: int | None = None  # the first stop signal: the reason the run stops
    hard_stop: bool = False  # a second Ctrl+C, held back while a checkpoint is written
    writes: int = 0  # checkpoint writes under way
    previous: dict[int, Any] = field(default_factory=dict)
    forward: Callable[[int], None] | None = None


NOTED = Noted()


def catch_stop_signals() -> None:
    """Note the stop signals from now on. Called again after Lightning has set its own SIGTERM
    handler; the handlers found the first time are the ones `release_stop_signals` puts back."""
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread
    for signum in STOP_SIGNALS:
        found = signal.signal(signum, _note)
        if signum not in NOTED.previous:
            NOTED.previous[signum] = signal.SIG_DFL if found is None else found


def release_stop_signals() -> None:
    """The handlers from before `catch_stop_signals`; a signal noted and not acted on is
    forgotten (it came after the last point the run could stop at)."""
    global NOTED
    if threading.current_thread() is threading.main_thread():
        for signum, handler in NOTED.previous.items():
            signal.signal(signum, handler)
    NOTED = Noted()


def _note(signum: int, frame: FrameType | None) -> None:
    if NOTED.signum is not None and signum == signal.SIGINT:
        NOTED.hard_stop = True
        if NOTED.writes == 0:
            raise KeyboardInterrupt  # the second Ctrl+C: stop now
        return
    if NOTED.signum is None:
        NOTED.signum = signum
        if NOTED.forward is not None and signum in FORWARDED:
            NOTED.forward(signum)


@contextmanager
def whole_write() -> Iterator[None]:
    """A checkpoint write that a second Ctrl+C does not cut short: it stops the run after."""
    NOTED.writes += 1
    try:
        yield
    finally:
        NOTED.writes -= 1
    if NOTED.writes == 0 and NOTED.hard_stop:
        raise KeyboardInterrupt


class WholeWrites(CheckpointIO):
    """The Trainer's checkpoint I/O, each write under `whole_write`."""

    def __init__(self, inner: CheckpointIO) -> None:
        self.inner = inner

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None
    ) -> None:
        with whole_write():
            self.inner.save_checkpoint(checkpoint, path, storage_options)

    def load_checkpoint(
        self, path: Any, map_location: Any | None = None, weights_only: bool | None = None
    ) -> dict[str, Any]:
        return self.inner.load_checkpoint(
            path, map_location=map_location, weights_only=weights_only
        )

    def remove_checkpoint(self, path: Any) -> None:
        self.inner.remove_checkpoint(path)

    def teardown(self) -> None:
        self.inner.teardown()


class GracefulStop(pl.Callback):
    def __init__(self, checkpoint: LastCheckpoint) -> None:
        self.checkpoint = checkpoint

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        catch_stop_signals()  # ranks started by `ddp_spawn` run no `train`: they start here
        NOTED.forward = getattr(trainer.strategy.launcher, "kill", None)
        if not isinstance(trainer.strategy.checkpoint_io, WholeWrites):
            trainer.strategy.checkpoint_io = WholeWrites(trainer.strategy.checkpoint_io)

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        catch_stop_signals()  # Lightning sets its SIGTERM handler just before a sanity check

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        catch_stop_signals()  # ... or just before training
        resumed = trainer.ckpt_path
        if resumed is not None and Path(resumed).resolve() == self.checkpoint.path.resolve():
            self.checkpoint.saved_step = trainer.global_step  # nothing newer to write
        self._stop_if_asked(trainer)

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if trainer.fit_loop._should_accumulate():
            return  # stop only where an optimizer step has just been taken
        self._stop_if_asked(trainer)

    def on_validation_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if NOTED.signum is not None:
            # Lightning's evaluation loop ends on a StopIteration from its step; the ranks then
            # agree at on_validation_epoch_end, which each reaches once.
            raise StopIteration

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # Callbacks come before the network gathers and logs the epoch's metrics, so a
        # validation cut short leaves nothing behind. A sanity check stops at on_train_start.
        if not trainer.sanity_checking:
            self._stop_if_asked(trainer, validating=True)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._stop_if_asked(trainer)  # after LastCheckpoint has written the epoch's end

    def _stop_if_asked(self, trainer: pl.Trainer, validating: bool = False) -> None:
        stop = trainer.strategy.reduce_boolean_decision(NOTED.signum is not None, all=False)
        if not stop:
            return
        if validating:
            validation_left_unfinished(trainer)
            self.checkpoint.save(trainer)
        elif self.checkpoint.saved_step != trainer.global_step:
            self.checkpoint.save(trainer)
        raise RunInterrupted(NOTED.signum or signal.SIGTERM, trainer.global_step)


def validation_left_unfinished(trainer: pl.Trainer) -> None:
    """Counts the validation under way as stopped inside its first batch. Saved so, a checkpoint
    resumes by running that validation again, whole (Lightning's RESTARTED_MID_EVALUATION, which
    skips the batches counted done: our loaders hold no position, so none may be); saved as it
    stands, the resumed run would skip that validation."""
    progress = trainer.fit_loop.epoch_loop.val_loop.batch_progress
    before = progress.total.completed - progress.current.completed
    counted: list[tuple[Any, int]] = [(progress.total, before), (progress.current, 0)]
    for counts, done in counted:  # _ProcessedTracker: ready, started, processed, completed
        counts.completed = counts.processed = done
        counts.ready = counts.started = done + 1
