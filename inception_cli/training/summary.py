"""summary.json: the state of a run that `compare`, `eval` and people read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning.pytorch as pl

from inception_cli.rundir import layout
from inception_cli.rundir.metrics import VAL_TOP1_ERROR, VAL_TOP5_ERROR

CHECKPOINTED = (
    "epochs",
    "best_val_top1_error",
    "best_val_top5_error",
    "best_epoch",
    "final_val_top1_error",
    "final_val_top5_error",
)


class RunSummary(pl.Callback):
    """Keeps summary.json current: status, epochs, best and final validation errors, wall time."""

    def __init__(self, run_dir: Path, static: dict[str, Any]) -> None:
        self.run_dir = run_dir
        previous = layout.read_summary(run_dir) or {}
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
            "started_at": layout.now_iso(),
            **previous,
            **static,
        }

    def _write(self, trainer: pl.Trainer, pl_module: pl.LightningModule, **changes: Any) -> None:
        self.summary.update(changes)
        self.summary["steps"] = trainer.global_step
        elapsed = getattr(pl_module, "elapsed_s", None)
        if callable(elapsed):
            self.summary["wall_time_s"] = round(float(elapsed()), 3)
        self.summary["updated_at"] = layout.now_iso()
        if trainer.is_global_zero:
            layout.write_summary(self.run_dir, self.summary)

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for stale in ("interrupted_at_step", "diverged_at_step", "error"):
            self.summary.pop(stale, None)
        self._write(trainer, pl_module, status="running", max_epochs=trainer.max_epochs)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        metrics = trainer.callback_metrics
        if VAL_TOP1_ERROR not in metrics:
            return
        top1 = float(metrics[VAL_TOP1_ERROR])
        top5 = float(metrics[VAL_TOP5_ERROR])
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
        from inception_cli.training.divergence import RunDiverged
        from inception_cli.training.signals import RunInterrupted

        if isinstance(exception, RunDiverged):
            self._write(trainer, pl_module, status="diverged", diverged_at_step=exception.step)
        elif isinstance(exception, RunInterrupted):
            self._write(
                trainer, pl_module, status="interrupted", interrupted_at_step=exception.step
            )
        elif isinstance(exception, KeyboardInterrupt):
            self._write(trainer, pl_module, status="interrupted")
        else:
            error = f"{type(exception).__name__}: {exception}"
            self._write(trainer, pl_module, status="failed", error=error)

    # The summary as of each checkpoint travels in it: a run resumed from an earlier checkpoint
    # than the newest rolls its best and final errors back to what that checkpoint had seen.
    def state_dict(self) -> dict[str, Any]:
        return {key: self.summary.get(key) for key in CHECKPOINTED}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.summary.update({key: state_dict.get(key) for key in CHECKPOINTED})
