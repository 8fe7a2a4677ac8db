"""A comparison from run directories: the runs, their thresholds, groups, rows and statement.

Nothing is written here; the output folder is only checked, so a refusal comes before any figure.
"""

from __future__ import annotations

from pathlib import Path

from inception_cli import runs as run_layout
from inception_cli.comparison.curves import find_run_dirs, read_run
from inception_cli.comparison.figures import check_output_dir, default_output_dir
from inception_cli.comparison.groups import group_by_model
from inception_cli.comparison.options import CompareOptions
from inception_cli.comparison.results import CompareResult, RunResult, model_rank
from inception_cli.comparison.statement import write_statement
from inception_cli.comparison.tables import group_row, print_warnings, run_row
from inception_cli.comparison.thresholds import set_thresholds
from inception_cli.errors import InputError


def read_runs(paths: list[Path]) -> tuple[list[RunResult], list[str]]:
    """The readable runs among `paths` in figure order (the catalog's, then by run id), and the
    warnings about the rest. InputError when there is none, after printing those warnings."""
    if not paths:
        raise InputError("no run directories given; try `inception compare runs/*`")
    warnings: list[str] = []
    found = [run for path in find_run_dirs(paths, warnings) if (run := read_run(path, warnings))]
    if not found:
        print_warnings(warnings)
        given = " ".join(str(path) for path in paths)
        raise InputError(
            f"no readable run directory among {given}; a run holds {run_layout.METRICS}"
            f" or {run_layout.SUMMARY}"
        )
    found.sort(key=lambda run: (model_rank(run.model), run.run_id))
    return found, warnings


def build_comparison(run_dirs: list[Path], options: CompareOptions) -> CompareResult:
    """Everything `inception compare` reports, except the figures, which `write_figures` adds."""
    runs, warnings = read_runs(run_dirs)
    metrics = options.metrics
    thresholds, rules = set_thresholds(runs, metrics, options.threshold)
    output_dir = options.output
    if output_dir is None:
        output_dir = default_output_dir([run.path for run in runs])
    check_output_dir(output_dir, metrics)
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
    )
    result.statement = write_statement(result)
    return result
