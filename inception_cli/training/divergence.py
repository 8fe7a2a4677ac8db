"""Stopping a diverging run at once: the first training loss that is not finite (or, when
`divergence.max_loss` is set, above it) ends the run before that step is checkpointed, so
last.ckpt keeps the last finite weights and summary.json says `diverged` with the step."""

from __future__ import annotations

import math
from typing import Any

import lightning.pytorch as pl
import torch


class RunDiverged(Exception):
    def __init__(self, step: int, loss: float) -> None:
        self.step = step
        self.loss = loss
        super().__init__(f"training diverged at step {step} (loss {loss})")


class DivergenceGuard(pl.Callback):
    """Must come before the callbacks that write checkpoints (training/builders.py)."""

    def __init__(self, max_loss: float | None = None) -> None:
        self.max_loss = max_loss

    def bad(self, loss: float) -> bool:
        return not math.isfinite(loss) or (self.max_loss is not None and loss > self.max_loss)

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: Any, outputs: Any, *args: Any
    ) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if not isinstance(loss, torch.Tensor):
            return
        value = float(loss.detach())
        # Every rank stops at the same step, whichever rank's loss went bad.
        if trainer.strategy.reduce_boolean_decision(self.bad(value), all=False):
            raise RunDiverged(trainer.global_step, value)
