"""The table a finished run prints."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def print_summary(summary: dict[str, Any], run_dir: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    def pct(value: Any) -> str:
        return "—" if value is None else f"{value:.2f}%"

    table = Table(title="Training run", show_header=True)
    for column in ("model", "status", "epochs", "best top-1 err", "best top-5 err", "wall time"):
        table.add_column(column)
    minutes, seconds = divmod(float(summary.get("wall_time_s", 0.0)), 60)
    table.add_row(
        str(summary.get("model")),
        str(summary.get("status")),
        str(summary.get("epochs")),
        pct(summary.get("best_val_top1_error")),
        pct(summary.get("best_val_top5_error")),
        f"{int(minutes)}m{seconds:04.1f}s",
    )
    console = Console()
    console.print(table)
    console.print(f"run directory: {run_dir}", soft_wrap=True)
