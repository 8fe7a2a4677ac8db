"""Finding run directories among the paths given and reading each into a validation curve."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from inception_cli import runs
from inception_cli.comparison.figures import looks_like_compare_output
from inception_cli.comparison.results import RunResult, ValPoint

METRIC_COLUMN = {"top1": "val/top1_error", "top5": "val/top5_error"}


def find_run_dirs(paths: list[Path], warnings: list[str]) -> list[Path]:
    """Runs among `paths`; a sweep folder (runs one level down) expands into its runs."""
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            warnings.append(f"{path} is not a directory; skipped")
            continue
        inside = list(runs.iter_runs(path))
        if not inside and not looks_like_compare_output(path):
            warnings.append(
                f"{path} is not a run directory (no {runs.METRICS} or {runs.SUMMARY}); skipped"
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
        logged = parse_number(row.get("time/elapsed_s"))
        elapsed = logged if logged is not None else elapsed
        top1 = parse_number(row.get(METRIC_COLUMN["top1"]))
        top5 = parse_number(row.get(METRIC_COLUMN["top5"]))
        if top1 is None and top5 is None:
            continue
        epoch = parse_number(row.get("epoch"))
        step = parse_number(row.get("step"))
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


def read_run(path: Path, warnings: list[str]) -> RunResult | None:
    """A run from its metrics.csv, with summary.json for what the curve cannot tell; None when
    neither file is readable."""
    summary = runs.read_summary(path)
    if summary is None:
        summary = {}
        if (path / runs.SUMMARY).is_file():
            warnings.append(
                f"{path / runs.SUMMARY} is not a readable JSON object; using {runs.METRICS} alone"
            )
    curve: list[ValPoint] = []
    if (path / runs.METRICS).is_file():
        try:
            curve = read_curve(runs.read_metrics(path))
        except (OSError, UnicodeDecodeError, csv.Error) as err:
            warnings.append(f"{path / runs.METRICS} is not readable ({err})")
            if not summary:
                return None
    elif not summary:
        return None

    model = str(summary.get("model") or runs.model_from_run_id(path.name) or "?")
    residual = summary.get("residual")
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
    epochs = optional_int(summary.get("epochs"))
    if epochs is None and curve:
        epochs = max(point.epoch for point in curve)
    return RunResult(
        run_id=str(summary.get("id") or path.name),
        path=path,
        model=model,
        residual=residual if isinstance(residual, bool) else runs.residual_by_name(model),
        params=optional_int(summary.get("params")),
        status=str(summary.get("status") or "unknown"),
        epochs=epochs,
        max_epochs=optional_int(summary.get("max_epochs")),
        curve=curve,
        best=best,
        final=final,
        reached={},
    )
