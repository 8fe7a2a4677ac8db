"""metrics.csv with a fixed column order, appended to (never rewritten) when a run resumes.

Validation rows come through Lightning's logging. Training rows are written by `StepRows` at
the end of their step, before that step's checkpoint: Lightning would log them only after the
step's callbacks, and a run killed in between would lose the row of a step its checkpoint
already holds. A run killed while writing a row leaves it torn (no line end): before the first
append, the file is cut back to its last whole line (`repair_torn_end`), or the next row would
run on into the torn one."""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.loggers.logger import Logger
from lightning.pytorch.utilities import rank_zero_only

from inception_cli.rundir.layout import METRICS, read_metrics, write_csv
from inception_cli.rundir.metrics import EPOCH, METRIC_COLUMNS, STEP, TRAIN_LOSS, VAL_PREFIX


class RunCSVLogger(Logger):
    """Writes `<save_dir>/metrics.csv`: one row per logging call, rank 0 only.

    Columns are METRIC_COLUMNS followed by any other metric in the order first seen; a run that
    resumes appends to the file it finds.
    """

    def __init__(self, save_dir: str | Path) -> None:
        super().__init__()
        self._save_dir = Path(save_dir)
        self.path = self._save_dir / METRICS
        self._columns: list[str] = list(METRIC_COLUMNS)
        self._header_read = False

    @property
    def name(self) -> str:
        return "csv"

    @property
    def version(self) -> str:
        return ""

    @property
    def save_dir(self) -> str:
        return str(self._save_dir)

    @property
    def log_dir(self) -> str:
        return str(self._save_dir)

    @rank_zero_only
    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        """The config is in .hydra/config.yaml already."""

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        if TRAIN_LOSS in metrics:
            return  # written by StepRows already
        self.write_row(metrics, step)

    @rank_zero_only
    def write_row(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        row = {key: _plain(value) for key, value in metrics.items()}
        if step is not None:
            row[STEP] = step
        self._read_existing_header()
        new = [key for key in row if key not in self._columns]
        if new:
            self._columns.extend(new)
            if self.path.exists():
                self._rewrite_with_columns()
        write_header = not self.path.exists() or self.path.stat().st_size == 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self._columns)
            if write_header:
                writer.writeheader()
            writer.writerow(row)

    def _read_existing_header(self) -> None:
        if self._header_read:
            return
        self._header_read = True
        repair_torn_end(self.path)
        if self.path.exists():
            with self.path.open(newline="") as handle:
                header = next(csv.reader(handle), [])
            self._columns = header + [c for c in self._columns if c not in header]

    def _rewrite_with_columns(self) -> None:
        write_csv(self.path, self._columns, read_metrics(self._save_dir))


class StepRows(pl.Callback):
    """Writes a training step's row to metrics.csv at the end of the step, with Lightning's
    cadence (`trainer.log_every_n_steps`) and step numbers; must come before the callbacks
    that write checkpoints."""

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if trainer.fit_loop._should_accumulate():
            return
        if not is_logging_step(trainer):
            return
        logger = next((lg for lg in trainer.loggers if isinstance(lg, RunCSVLogger)), None)
        if logger is None:
            return
        row: dict[str, Any] = {
            k: v for k, v in trainer.logged_metrics.items() if not k.startswith(VAL_PREFIX)
        }
        row[EPOCH] = trainer.current_epoch
        logger.write_row(row, trainer.global_step - 1)


def repair_torn_end(path: Path, chunk: int = 1 << 16) -> None:
    """Cut `path` back to its last line end (a torn header: to nothing). The torn row belongs
    to a step after the last checkpoint, which the resumed run computes and writes again."""
    try:
        handle = path.open("rb+")
    except FileNotFoundError:
        return
    with handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return
        handle.seek(size - 1)
        last = handle.read(1)
        if last == b"\n":
            return
        if last == b"\r":
            handle.write(b"\n")  # only the line feed is missing: the row is whole
        else:
            handle.truncate(_after_last_line_end(handle, size, chunk))
        os.fsync(handle.fileno())


def _after_last_line_end(handle: Any, size: int, chunk: int) -> int:
    """The offset just after the file's last line feed; 0 when it has none."""
    end = size
    while end > 0:
        start = max(0, end - chunk)
        handle.seek(start)
        newline = handle.read(end - start).rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        end = start
    return 0


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    return value


def is_logging_step(trainer: pl.Trainer) -> bool:
    """The steps `StepRows` writes a row for, and the other callbacks read the run on: every
    `log_every_n_steps`-th (set by Trainer.__init__), and the last."""
    every = int(getattr(trainer, "log_every_n_steps", 1))
    return bool(every and trainer.global_step % every == 0) or trainer.should_stop
