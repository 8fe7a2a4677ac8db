"""Faults injected into a training process, as Lightning callbacks named by `_target_`.

The test puts this folder on PYTHONPATH and adds `+callbacks.extra.fault._target_=faults.KillAt`
with the point to kill at; the process then kills itself with SIGKILL once (a marker file keeps
the resumed run, which reads the same saved config, from dying again).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import lightning.pytorch as pl


class KillAt(pl.Callback):
    """SIGKILL after optimizer step `step` (`at="step"`), or at the end of epoch `epoch` after
    its checkpoint (`at="epoch_end"`), the first time only."""

    def __init__(self, marker: str, at: str = "step", step: int = -1, epoch: int = -1) -> None:
        self.marker = Path(marker)
        self.at, self.step, self.epoch = at, step, epoch

    def _die(self, trainer: pl.Trainer) -> None:
        marker = self.marker.with_name(f"{self.marker.name}.rank{trainer.global_rank}")
        if marker.exists():
            return
        marker.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if self.at == "step" and trainer.global_step == self.step:
            self._die(trainer)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.at == "epoch_end" and trainer.current_epoch == self.epoch:
            self._die(trainer)


class SignalAt(pl.Callback):
    """Sends this process `signum` after optimizer step `step`, the first time only."""

    def __init__(self, marker: str, step: int, signum: int = signal.SIGTERM) -> None:
        self.marker = Path(marker)
        self.step, self.signum = step, signum

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if trainer.global_step == self.step and not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), self.signum)
