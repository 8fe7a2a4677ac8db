"""Stopping cleanly on SIGTERM, SIGINT, SIGUSR1 and SIGUSR2 (`kill`, Ctrl+C, a scheduler's
warning).

The signal is noted; the current optimizer step finishes, last.ckpt is written at it, every rank
agrees to stop at the same step, and `RunInterrupted` leaves the Trainer. summary.json then says
`interrupted` with the step, and the task prints how to resume. A second SIGINT stops at once.
These handlers replace Lightning's and submitit's while the run trains, so that one piece of
code acts on a signal: after a scheduler's warning the task requeues its SLURM job
(training/cluster.py), and the restarted job continues the run.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

import lightning.pytorch as pl

from inception_cli.training.checkpointing import LastCheckpoint

# SIGUSR1/SIGUSR2: SLURM's warning ahead of a time limit or preemption (`--signal`, submitit's).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2)


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


class GracefulStop(pl.Callback):
    def __init__(self, checkpoint: LastCheckpoint) -> None:
        self.checkpoint = checkpoint
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def _note(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # the second Ctrl+C: stop now
        self.received = signum

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._note)

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if trainer.fit_loop._should_accumulate():
            return  # stop only where an optimizer step has just been taken
        stop = trainer.strategy.reduce_boolean_decision(self.received is not None, all=False)
        if not stop:
            return
        if self.checkpoint.saved_step != trainer.global_step:
            self.checkpoint.save(trainer)
        raise RunInterrupted(self.received or signal.SIGTERM, trainer.global_step)

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
