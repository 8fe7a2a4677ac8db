"""Finding run directories among the paths given and reading each into a validation curve."""

from __future__ import annotations

import csv
import math
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from inception_cli import catalog
from inception_cli.comparison.output import looks_like_compare_output
from inception_cli.comparison.results import DeadPoint, RunResult, ValPoint
from inception_cli.comparison.settings import read_settings
from inception_cli.rundir import layout, metrics

METRIC_COLUMN = {"top1": metrics.VAL_TOP1_ERROR, "top5": metrics.VAL_TOP5_ERROR}
# Logged by training (training/module.py) on every logged training step.
DEAD_COLUMN = metrics.TRAIN_DEAD_FRACTION
Point = TypeVar("Point", ValPoint, DeadPoint)


def find_run_dirs(paths: list[Path], warnings: list[str]) -> list[Path]:
    """Runs among `paths`; a sweep folder (runs one level down) expands into its runs."""
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            warnings.append(f"{path} is not a directory; skipped")
            continue
        inside = list(layout.iter_runs(path))
        if not inside and not looks_like_compare_output(path):
            warnings.append(
                f"{path} is not a run directory (no {layout.METRICS} or {layout.SUMMARY}); skipped"
            )
        found.extend(inside)
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def parse_number(text: str | None) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_curve(rows: list[dict[str, str]]) -> list[ValPoint]:
    """Validation rows of a CSVLogger metrics.csv; a row cut short by a running job is skipped."""
    curve: list[ValPoint] = []
    elapsed: float | None = None
    for row in rows:
        # time/elapsed_s may be logged on train rows only; the latest value is the closest.
        logged = parse_number(row.get(metrics.ELAPSED_S))
        elapsed = logged if logged is not None else elapsed
        top1 = parse_number(row.get(METRIC_COLUMN["top1"]))
        top5 = parse_number(row.get(METRIC_COLUMN["top5"]))
        if top1 is None and top5 is None:
            continue
        epoch = parse_number(row.get(metrics.EPOCH))
        step = parse_number(row.get(metrics.STEP))
        curve.append(
            ValPoint(
                epoch=int(epoch) + 1 if epoch is not None else len(curve) + 1,
                step=int(step) if step is not None else None,
                hours=elapsed / 3600 if elapsed is not None else None,
                top1=top1,
                top5=top5,
            )
        )
    return curve


def optional_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def optional_float(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def summary_or_empty(run_dir: Path, warnings: list[str]) -> dict[str, Any]:
    """summary.json of a run, or {} when it is missing or unreadable (a warning for the latter)."""
    summary = layout.read_summary(run_dir)
    if summary is not None:
        return summary
    if layout.summary_path(run_dir).is_file():
        warnings.append(
            f"{layout.summary_path(run_dir)} is not a readable JSON object; using {layout.METRICS} alone"
        )
    return {}


def read_rows(run_dir: Path, warnings: list[str]) -> list[dict[str, str]] | None:
    """The rows of metrics.csv; None without the file. A file that cannot be read, is empty or
    has no header row gives no rows and a warning: the run is still shown, with what its
    summary.json says or `—`."""
    path = layout.metrics_path(run_dir)
    if not path.is_file():
        return None
    try:
        header, rows = layout.read_metrics_table(run_dir)  # a torn last row left out
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        warnings.append(f"{path} is not readable ({err})")
        return []
    if not header:
        warnings.append(f"{path} is empty: no validation to show")
        return []
    if not set(header) & set(metrics.METRIC_COLUMNS):
        warnings.append(
            f"{path} has no header row (none of {', '.join(metrics.METRIC_COLUMNS[:2])},"
            f" {METRIC_COLUMN['top1']}, ...): its rows are not read"
        )
        return []
    return rows


def read_dead(rows: list[dict[str, str]]) -> list[DeadPoint]:
    """The training rows that logged DEAD_COLUMN (runs trained before it was logged have none)."""
    dead: list[DeadPoint] = []
    elapsed: float | None = None
    for row in rows:
        logged = parse_number(row.get(metrics.ELAPSED_S))
        elapsed = logged if logged is not None else elapsed
        value = parse_number(row.get(DEAD_COLUMN))
        epoch = parse_number(row.get(metrics.EPOCH))
        if value is None or epoch is None:
            continue
        step = parse_number(row.get(metrics.STEP))
        dead.append(
            DeadPoint(
                epoch=int(epoch) + 1,
                step=int(step) if step is not None else None,
                hours=elapsed / 3600 if elapsed is not None else None,
                value=value,
            )
        )
    return dead


def with_images(points: list[Point], batch: int | None) -> list[Point]:
    """Each point with the images seen by then. Lightning logs the index of the last optimizer
    step, so step s means s + 1 steps done."""
    if batch is None:
        return points
    return [
        replace(point, images=float((point.step + 1) * batch)) if point.step is not None else point
        for point in points
    ]


def best_and_final(
    curve: list[ValPoint], summary: dict[str, Any]
) -> tuple[dict[str, float | None], dict[str, float | None]]:
    """Lowest and latest error of each metric: from the curve, else as the summary recorded."""
    best: dict[str, float | None] = {}
    final: dict[str, float | None] = {}
    for metric in ("top1", "top5"):
        values = [v for v in (point.error(metric) for point in curve) if v is not None]
        best[metric] = (
            min(values) if values else optional_float(summary.get(f"best_val_{metric}_error"))
        )
        final[metric] = (
            values[-1] if values else optional_float(summary.get(f"final_val_{metric}_error"))
        )
    return best, final


def read_run(path: Path, warnings: list[str]) -> RunResult | None:
    """A run from its metrics.csv, with summary.json for what the curve cannot tell; None when
    neither file is readable."""
    summary = summary_or_empty(path, warnings)
    rows = read_rows(path, warnings)
    if rows is None and not summary:
        return None
    model = str(summary.get("model") or catalog.model_from_run_id(path.name) or "?")
    run_settings = read_settings(path, summary, model)
    curve = with_images(read_curve(rows or []), run_settings.global_batch)
    residual = summary.get("residual")
    best, final = best_and_final(curve, summary)
    epochs = optional_int(summary.get("epochs"))
    if epochs is None and curve:
        epochs = max(point.epoch for point in curve)
    return RunResult(
        run_id=str(summary.get("id") or path.name),
        path=path,
        model=model,
        residual=residual if isinstance(residual, bool) else catalog.residual_by_name(model),
        params=optional_int(summary.get("params")),
        status=str(summary.get("status") or "unknown"),
        epochs=epochs,
        max_epochs=optional_int(summary.get("max_epochs")),
        curve=curve,
        best=best,
        final=final,
        reached={},
        settings=run_settings,
        dead=with_images(read_dead(rows or []), run_settings.global_batch),
    )
