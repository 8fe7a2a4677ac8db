"""Writing report.html and report.md into the comparison's folder, after the figures."""

from __future__ import annotations

from inception_cli.comparison.evals import read_eval_rows
from inception_cli.comparison.output import REPORT_HTML, REPORT_MD
from inception_cli.comparison.report import build_report
from inception_cli.comparison.report_html import write_html
from inception_cli.comparison.report_md import write_markdown
from inception_cli.comparison.results import CompareResult


def write_reports(result: CompareResult) -> None:
    """Both reports, from the figures already drawn and the runs' `inception eval` results."""
    eval_rows = read_eval_rows(result.runs, result.warnings)
    report = build_report(result, eval_rows)
    result.output_dir.mkdir(parents=True, exist_ok=True)
    result.reports = [
        write_html(report, result.output_dir / REPORT_HTML),
        write_markdown(report, result.output_dir / REPORT_MD),
    ]
