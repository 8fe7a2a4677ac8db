"""Stopping a diverging run: the first training loss that is not finite (or, when
`divergence.max_loss` is set, above it) ends the run before any later checkpoint is written,
so last.ckpt keeps the last finite weights and summary.json says `diverged` with the step.

The losses are watched on the device. Reading one on the host waits for the device to finish
its queued work, which on a GPU costs a large share of the step time when done every step; so
the host looks only on logging steps, before validation, before every checkpoint and at the
end of training. The step and loss reported are those of the first bad loss."""

from __future__ import annotations

import math
from typing import Any

import lightning.pytorch as pl
import torch

from inception_cli.training.csv_logger import is_logging_step


class RunDiverged(Exception):
    def __init__(self, step: int, loss: float) -> None:
        self.step = step
        self.loss = loss
        super().__init__(f"training diverged at step {step} (loss {loss})")


class DivergenceGuard(pl.Callback):
    """Must come before the callbacks that write checkpoints (training/builders.py)."""

    def __init__(self, max_loss: float | None = None) -> None:
        self.max_loss = max_loss
        self.bad_step: torch.Tensor | None = None  # -1 until a loss goes bad
        self.bad_loss: torch.Tensor | None = None

    def bad(self, loss: torch.Tensor) -> torch.Tensor:
        bad = ~torch.isfinite(loss)
        if self.max_loss is not None:
            bad = bad | (loss > self.max_loss)
        return bad

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: Any, outputs: Any, *args: Any
    ) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if not isinstance(loss, torch.Tensor):
            return
        loss = loss.detach().float()
        if self.bad_step is None or self.bad_loss is None:
            self.bad_step = torch.full((), -1, dtype=torch.long, device=loss.device)
            self.bad_loss = torch.zeros((), device=loss.device)
        first = self.bad(loss) & (self.bad_step < 0)
        self.bad_step = torch.where(first, trainer.global_step, self.bad_step)
        self.bad_loss = torch.where(first, loss, self.bad_loss)
        if is_logging_step(trainer):
            self.check(trainer)

    def check(self, trainer: pl.Trainer) -> None:
        """Raise RunDiverged when a loss went bad on any rank (every rank calls this at the
        same points, so every rank stops at the same step)."""
        step = -1 if self.bad_step is None else int(self.bad_step)
        if not trainer.strategy.reduce_boolean_decision(step >= 0, all=False):
            return
        loss = float(self.bad_loss) if step >= 0 and self.bad_loss is not None else math.nan
        raise RunDiverged(step if step >= 0 else trainer.global_step, loss)

    def on_validation_start(self, trainer: pl.Trainer, pl_module: Any) -> None:
        if not trainer.sanity_checking:
            self.check(trainer)

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: Any, checkpoint: Any) -> None:
        self.check(trainer)

    def on_train_end(self, trainer: pl.Trainer, pl_module: Any) -> None:
        self.check(trainer)
