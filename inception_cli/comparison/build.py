"""A comparison from run directories: the runs, their thresholds, groups, rows and statement.

Nothing is written here: the output folder was created and checked before (output.py).
"""

from __future__ import annotations

from pathlib import Path

from inception_cli.comparison.classes import class_count, metrics_worth_showing
from inception_cli.comparison.curves import find_run_dirs, read_run
from inception_cli.comparison.groups import group_by_model, group_by_settings
from inception_cli.comparison.options import CompareOptions
from inception_cli.comparison.results import CompareResult, RunResult, model_rank
from inception_cli.comparison.statement import write_statement
from inception_cli.comparison.tables import group_row, print_warnings, run_row
from inception_cli.comparison.thresholds import set_thresholds
from inception_cli.errors import InputError
from inception_cli.rundir import layout


def find_runs(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """The run directories among `paths` (a sweep folder gives its runs), and warnings about
    the rest. Only folders are listed here: no run is read yet."""
    if not paths:
        raise InputError("no run directories given; try `inception compare runs/*`")
    warnings: list[str] = []
    found = find_run_dirs(paths, warnings)
    if not found:
        raise_no_runs(paths, warnings)
    return found, warnings


def raise_no_runs(paths: list[Path], warnings: list[str]) -> None:
    """InputError, after printing the warnings about what was skipped."""
    print_warnings(warnings)
    given = " ".join(str(path) for path in paths)
    raise InputError(
        f"no readable run directory among {given}; a run holds {layout.METRICS} or {layout.SUMMARY}"
    )


def read_runs(run_dirs: list[Path], paths: list[Path], warnings: list[str]) -> list[RunResult]:
    """The readable runs in figure order (the catalog's, then by run id)."""
    found = [run for path in run_dirs if (run := read_run(path, warnings))]
    if not found:
        raise_no_runs(paths, warnings)
    found.sort(key=lambda run: (model_rank(run.model), run.run_id))
    return found


def build_comparison(
    paths: list[Path],
    run_dirs: list[Path],
    warnings: list[str],
    options: CompareOptions,
    output_dir: Path,
) -> CompareResult:
    """Everything `inception compare` reports but the figures and the reports, which
    tasks/compare.py draws and writes next into `output_dir`, already created."""
    runs = read_runs(run_dirs, paths, warnings)
    classes = class_count(runs)
    metrics, notes = metrics_worth_showing(options.metrics, classes)
    thresholds, rules = set_thresholds(runs, metrics, options.threshold)
    groups = group_by_model(runs, metrics) if options.group_by == "model" else []
    rows = (
        [group_row(group, metrics) for group in groups]
        if options.group_by
        else [run_row(run, metrics) for run in runs]
    )
    result = CompareResult(
        metrics=metrics,
        x=options.x,
        group_by=options.group_by,
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
        seed_groups=group_by_settings(runs, metrics),
        notes=notes,
        classes=classes,
    )
    if options.x == "images":
        warn_images_unknown(runs, warnings)
    result.statement = write_statement(result)
    return result


def warn_images_unknown(runs: list[RunResult], warnings: list[str]) -> None:
    """One line naming the runs that cannot be placed on the images-seen axis."""
    unknown = [run.run_id for run in runs if not run.settings or run.settings.global_batch is None]
    if unknown:
        warnings.append(
            f"images seen unknown for {', '.join(unknown)} (no batch size and device count in"
            f" {layout.CONFIG}); left out of the figures"
        )
