"""What happens to a run directory when a run continues from its last checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inception_cli.rundir import layout
from inception_cli.rundir.metrics import STEP


def keep_rows_before_checkpoint(run_dir: Path, step: int) -> int | None:
    """Steps after the checkpoint run again on resume; their old rows move to a side file.
    Returns the last step that had been logged, if any step is run again."""
    if not (run_dir / layout.METRICS).is_file():
        return None
    rows = layout.read_metrics(run_dir)
    if not rows:
        return None
    keep: list[dict[str, str]] = []
    replayed: list[dict[str, str]] = []
    for row in rows:
        (keep if not row.get(STEP) or int(float(row[STEP])) < step else replayed).append(row)
    if not replayed:
        return None
    fields = list(rows[0])
    layout.write_csv(layout.unique_path(run_dir / "metrics.replayed.csv"), fields, replayed)
    layout.write_csv(run_dir / layout.METRICS, fields, keep)
    return max(int(float(row[STEP])) for row in replayed)


def skip_steps_already_sent(loggers: list[Any], last_sent: int) -> None:
    """W&B and TensorBoard already hold the steps a resumed run computes again (identically):
    they are not sent a second time. metrics.csv had them moved aside, so it logs them."""
    from inception_cli.training.csv_logger import RunCSVLogger

    for logger in loggers:
        if isinstance(logger, RunCSVLogger):
            continue
        send = logger.log_metrics

        def log_new_steps(metrics: Any, step: int | None = None, _send: Any = send) -> None:
            if step is None or step > last_sent:
                _send(metrics, step)

        logger.log_metrics = log_new_steps
