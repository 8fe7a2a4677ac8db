"""`inception compare`: the paper's convergence comparison (Figs 21-26, Table 2 style).

Reads only `metrics.csv` and `summary.json` of each run directory, prints a table and a short
statement computed from the data, and writes the convergence figures; inception_cli/comparison
holds the pieces. It never imports torch or Lightning.
"""

from __future__ import annotations

from pathlib import Path

from inception_cli.comparison.build import build_comparison
from inception_cli.comparison.figures import write_figures
from inception_cli.comparison.options import check_options
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
    """Compare the convergence of runs: table, statement and Figs 25/26 style figures.

    `threshold` is the error (%) whose first crossing is reported: for top-1 with --metric top1
    or both, for top-5 with --metric top5. A metric without a given threshold uses the highest
    final error among finished runs, which every finished run reaches.
    """
    options = check_options(
        metric=metric, x=x, group_by=group_by, threshold=threshold, output=output, fmt=fmt
    )
    result = build_comparison(run_dirs, options)
    write_figures(result)
    print_result(result, options.fmt)
    return result
