"""The progress bars, reading the logged metrics only on logging steps.

Showing the loss means reading it on the host, which waits for the device to finish the work
queued so far; on a GPU, doing that every step leaves the device idle while the host prepares
the next step (Inception-v4 on an H200: 60% of the step rate without the waits)."""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import RichProgressBar, TQDMProgressBar

from inception_cli.training.csv_logger import is_logging_step


class RichBar(RichProgressBar):
    """Lightning's rich bar; its count moves every step, its metrics on logging steps."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._read_metrics = True

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any, **kwargs: Any) -> None:
        self._read_metrics = is_logging_step(trainer)
        try:
            super().on_train_batch_end(trainer, *args, **kwargs)
        finally:
            self._read_metrics = True

    def _update_metrics(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._read_metrics:
            super()._update_metrics(trainer, pl_module)


def progress_bar(kind: str, log_every_n_steps: int) -> pl.Callback | None:
    """`callbacks.progress_bar`: rich, tqdm, or none (None)."""
    if kind == "rich":
        return RichBar(leave=True)
    if kind == "tqdm":
        # tqdm reads the metrics whenever it redraws.
        return TQDMProgressBar(refresh_rate=max(1, log_every_n_steps))
    return None
