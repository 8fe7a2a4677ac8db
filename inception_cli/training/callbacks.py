"""Callbacks that keep a run directory up to date: checkpoints for resume, and summary.json."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from inception_cli import runs


class AtomicCheckpointIO(TorchCheckpointIO):
    """Writes to a temporary file and renames it, so a killed run never leaves a torn checkpoint."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None
    ) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        torch.save(checkpoint, tmp)
        os.replace(tmp, target)


class LastCheckpoint(pl.Callback):
    """checkpoints/last.ckpt every `every_n_train_steps` optimizer steps and at every epoch end."""

    def __init__(self, run_dir: Path, every_n_train_steps: int) -> None:
        self.path = runs.checkpoint(run_dir, "last")
        self.every = every_n_train_steps

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if self.every > 0 and trainer.global_step % self.every == 0:
            trainer.save_checkpoint(self.path, weights_only=False)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        trainer.save_checkpoint(self.path, weights_only=False)


class RunSummary(pl.Callback):
    """Keeps summary.json current: status, epochs, best and final validation errors, wall time."""

    def __init__(self, run_dir: Path, static: dict[str, Any]) -> None:
        self.run_dir = run_dir
        previous = runs.read_summary(run_dir) or {}
        self.summary: dict[str, Any] = {
            "id": run_dir.name,
            "status": "running",
            "epochs": 0,
            "steps": 0,
            "best_val_top1_error": None,
            "best_val_top5_error": None,
            "best_epoch": None,
            "final_val_top1_error": None,
            "final_val_top5_error": None,
            "wall_time_s": 0.0,
            "started_at": runs.now_iso(),
            **previous,
            **static,
        }

    def _write(self, trainer: pl.Trainer, pl_module: pl.LightningModule, **changes: Any) -> None:
        self.summary.update(changes)
        self.summary["steps"] = trainer.global_step
        elapsed = getattr(pl_module, "elapsed_s", None)
        if callable(elapsed):
            self.summary["wall_time_s"] = round(float(elapsed()), 3)
        self.summary["updated_at"] = runs.now_iso()
        if trainer.is_global_zero:
            runs.write_summary(self.run_dir, self.summary)

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._write(trainer, pl_module, status="running", max_epochs=trainer.max_epochs)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        metrics = trainer.callback_metrics
        if "val/top1_error" not in metrics:
            return
        top1 = float(metrics["val/top1_error"])
        top5 = float(metrics["val/top5_error"])
        epoch = trainer.current_epoch + 1
        changes: dict[str, Any] = {
            "epochs": epoch,
            "final_val_top1_error": round(top1, 4),
            "final_val_top5_error": round(top5, 4),
        }
        best = self.summary.get("best_val_top1_error")
        if best is None or top1 <= best:
            changes.update(
                best_val_top1_error=round(top1, 4),
                best_val_top5_error=round(top5, 4),
                best_epoch=epoch,
            )
        self._write(trainer, pl_module, **changes)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        status = "finished" if not trainer.interrupted else "failed"
        self._write(trainer, pl_module, status=status)

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        self._write(
            trainer, pl_module, status="failed", error=f"{type(exception).__name__}: {exception}"
        )
