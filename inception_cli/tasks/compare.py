"""`inception compare`: the paper's convergence comparison (Figs 21-26, Table 2 style).

Reads only `metrics.csv` and `summary.json` of each run directory, prints a table and a short
statement computed from the data, and writes the convergence figures; inception_cli/comparison
holds the pieces. It never imports torch or Lightning.
"""

from __future__ import annotations

import sys
from pathlib import Path

from inception_cli import runs as run_layout
from inception_cli.comparison.curves import find_run_dirs, read_run
from inception_cli.comparison.figures import check_output_dir, default_output_dir, write_figures
from inception_cli.comparison.groups import group_by_model
from inception_cli.comparison.results import CompareResult, model_rank
from inception_cli.comparison.statement import write_statement
from inception_cli.comparison.tables import group_row, print_result, run_row
from inception_cli.comparison.thresholds import set_thresholds
from inception_cli.errors import InputError

__all__ = ["CompareResult", "run_compare"]

METRICS = ("top1", "top5", "both")
X_AXES = ("epoch", "hours", "step")
FORMATS = ("table", "md", "csv", "json")
GROUP_KEYS = ("model",)


def check_choice(value: str | None, allowed: tuple[str, ...], option: str) -> None:
    if value is not None and value not in allowed:
        raise InputError(f"unknown {option} {value!r}; choose one of: {', '.join(allowed)}")


def run_compare(
    run_dirs: list[Path],
    *,
    metric: str = "both",
    x: str = "epoch",
    group_by: str | None = None,
    threshold: float | None = None,
    output: Path | None = None,
    fmt: str = "table",
) -> CompareResult:
    """Compare the convergence of runs: table, statement and Figs 25/26 style figures.

    `threshold` is the error (%) whose first crossing is reported: for top-1 with --metric top1
    or both, for top-5 with --metric top5. A metric without a given threshold uses the highest
    final error among finished runs, which every finished run reaches.
    """
    check_choice(metric, METRICS, "--metric")
    check_choice(x, X_AXES, "--x")
    check_choice(fmt, FORMATS, "--format")
    check_choice(group_by, GROUP_KEYS, "--group-by")
    if threshold is not None and not 0 <= threshold <= 100:
        raise InputError(f"--threshold {threshold} is not an error in percent; give 0 to 100")
    if not run_dirs:
        raise InputError("no run directories given; try `inception compare runs/*`")
    metrics = ("top1", "top5") if metric == "both" else (metric,)

    warnings: list[str] = []
    runs = [run for path in find_run_dirs(run_dirs, warnings) if (run := read_run(path, warnings))]
    if not runs:
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        given = " ".join(str(path) for path in run_dirs)
        raise InputError(
            f"no readable run directory among {given}; a run holds {run_layout.METRICS}"
            f" or {run_layout.SUMMARY}"
        )
    runs.sort(key=lambda run: (model_rank(run.model), run.run_id))
    thresholds, rules = set_thresholds(runs, metrics, threshold)

    output_dir = output if output is not None else default_output_dir([run.path for run in runs])
    check_output_dir(output_dir, metrics)

    groups = group_by_model(runs, metrics) if group_by == "model" else []
    rows = (
        [group_row(group, metrics) for group in groups]
        if group_by
        else [run_row(run, metrics) for run in runs]
    )
    result = CompareResult(
        metrics=metrics,
        x=x,
        group_by=group_by,
        thresholds=thresholds,
        threshold_rules=rules,
        runs=runs,
        groups=groups,
        rows=rows,
        statement=[],
        figures=[],
        drawn={},
        warnings=warnings,
        output_dir=output_dir,
    )
    result.statement = write_statement(result)
    write_figures(result, output_dir)
    print_result(result, fmt)
    return result
