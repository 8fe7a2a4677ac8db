"""`inception compare`: the paper's convergence comparison (Figs 21-26, Tables 2 and 5).

Reads each run directory's `metrics.csv`, `summary.json`, saved config and `inception eval`
results; prints a table and a short statement computed from the data; writes every figure of
comparison/figure_registry.py (the convergence overview, the paper's figures by number over seeds,
residual scaling) and report.html / report.md beside them.
The output folder is created before any run is read, so a folder that cannot be written is
refused at once. inception_cli/comparison holds the pieces. It never imports torch or Lightning.
"""

from __future__ import annotations

import sys
from pathlib import Path

from inception_cli.comparison.build import build_comparison, find_runs
from inception_cli.comparison.figure_registry import figure_kinds
from inception_cli.comparison.options import check_options
from inception_cli.comparison.output import check_output_dir, open_output, remove_if_empty
from inception_cli.comparison.report_files import write_reports
from inception_cli.comparison.results import CompareResult
from inception_cli.comparison.tables import print_result

__all__ = ["CompareResult", "run_compare"]


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
    """Compare the convergence of runs: table, statement, figures and the report.

    `threshold` is the error (%) whose first crossing is reported: for top-1 with --metric top1
    or both, for top-5 with --metric top5. A metric without a given threshold uses the highest
    final error among finished runs, which every finished run reaches. Without `output`, the
    figures and reports go into a new folder `compare` (or compare-1, ...) beside the runs. On
    10 classes or fewer the top-5 figures and sentences are left out, with a note saying why.
    """
    options = check_options(
        metric=metric, x=x, group_by=group_by, threshold=threshold, output=output, fmt=fmt
    )
    found, warnings = find_runs(run_dirs)
    # The output folder first: one that cannot be written is refused before any run is read.
    output_dir, created = open_output(options.output, found)
    try:
        check_output_dir(output_dir, options.metrics)
        result = build_comparison(run_dirs, found, warnings, options, output_dir)
        for kind in figure_kinds():
            kind.write(result)
        write_reports(result)
    except BaseException:
        if created:
            remove_if_empty(output_dir)
        raise
    print_result(result, options.fmt)
    # Last, so the path is the last thing on the screen; CSV and JSON keep stdout to the data.
    report = result.reports[0]
    print(f"report: {report}", file=sys.stderr if options.fmt in ("csv", "json") else sys.stdout)
    return result
