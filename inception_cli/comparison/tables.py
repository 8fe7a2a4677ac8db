"""The Table 2 style table: one row per run or per model, printed with rich or as Markdown, CSV
or JSON, followed by the thresholds, the statement and the figures written."""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Any

from inception_cli.comparison.results import (
    METRIC_LABEL,
    CompareResult,
    GroupResult,
    RunResult,
)
from inception_cli.comparison.text import (
    MISSING,
    format_epoch_stat,
    format_error,
    format_hours,
    format_stat,
    human_count,
    residual_label,
)

TITLE = "Convergence (Table 2 style; errors in %, validation)"


def run_row(run: RunResult, metrics: tuple[str, ...]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "run": run.run_id,
        "model": run.model,
        "type": residual_label(run.residual),
        "params": run.params,
        "epochs": run.epochs,
        "max_epochs": run.max_epochs,
    }
    for metric in ("top1", "top5"):
        row[f"best_{metric}_error"] = run.best[metric]
        row[f"final_{metric}_error"] = run.final[metric]
    for metric in metrics:
        crossing = run.reached.get(metric)
        row[f"{metric}_reached_epoch"] = crossing.epoch if crossing else None
        row[f"{metric}_reached_hours"] = crossing.hours if crossing else None
    row["status"] = run.status
    return row


def group_row(group: GroupResult, metrics: tuple[str, ...]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "model": group.model,
        "type": residual_label(group.residual),
        "params": group.params,
        "runs": len(group.runs),
        "aggregated_runs": len(group.aggregated),
        "epochs_mean": group.epochs.mean if group.epochs else None,
    }
    for metric in ("top1", "top5"):
        for kind, stats in (("best", group.best), ("final", group.final)):
            value = stats[metric]
            row[f"{kind}_{metric}_error_mean"] = value.mean if value else None
            row[f"{kind}_{metric}_error_std"] = value.std if value else None
    for metric in metrics:
        epoch = group.reached_epoch.get(metric)
        hours = group.reached_hours.get(metric)
        row[f"{metric}_reached_epoch_mean"] = epoch.mean if epoch else None
        row[f"{metric}_reached_epoch_std"] = epoch.std if epoch else None
        row[f"{metric}_reached_hours_mean"] = hours.mean if hours else None
        row[f"{metric}_reached_runs"] = group.n_reached.get(metric, 0)
    row["status"] = group.status
    return row


def format_crossing(run: RunResult, metric: str) -> str:
    if metric not in run.reached:
        return MISSING
    crossing = run.reached[metric]
    if crossing is None:
        return "never" if run.best[metric] is not None else MISSING
    hours = format_hours(crossing.hours)
    return f"{crossing.epoch} ({hours})" if hours else str(crossing.epoch)


def format_group_crossing(group: GroupResult, metric: str) -> str:
    epoch = group.reached_epoch.get(metric)
    if epoch is None:
        has_data = any(run.best[metric] is not None for run in group.aggregated)
        return "never" if metric in group.reached_epoch and has_data else MISSING
    text = format_epoch_stat(epoch)
    hours = group.reached_hours.get(metric)
    if hours is not None:
        text += f" ({format_hours(hours.mean)})"
    if group.n_reached[metric] < len(group.aggregated):
        text += f" [{group.n_reached[metric]}/{len(group.aggregated)} runs]"
    return text


def reach_header(metric: str, threshold: float | None) -> str:
    level = f"{threshold:.1f}%" if threshold is not None else "?"
    return f"{METRIC_LABEL[metric]} ≤ {level} at epoch"


def display_columns(result: CompareResult) -> tuple[list[str], list[list[str]]]:
    """Header and cells of the human-readable table (rich and Markdown)."""
    metrics = result.metrics
    errors = ["best top-1", "final top-1", "best top-5", "final top-5"]
    reach = [reach_header(m, result.thresholds[m]) for m in metrics]
    if result.groups and result.group_by:
        header = ["model", "type", "params", "runs", "epochs", *errors, *reach, "status"]
        cells = [
            [
                group.model,
                residual_label(group.residual),
                human_count(group.params),
                str(len(group.runs)),
                format_epoch_stat(group.epochs),
                format_stat(group.best["top1"]),
                format_stat(group.final["top1"]),
                format_stat(group.best["top5"]),
                format_stat(group.final["top5"]),
                *(format_group_crossing(group, m) for m in metrics),
                group.status,
            ]
            for group in result.groups
        ]
        return header, cells
    header = ["run", "model", "type", "params", "epochs", *errors, *reach, "status"]
    cells = []
    for run in result.runs:
        epochs = MISSING if run.epochs is None else str(run.epochs)
        if run.max_epochs is not None and run.epochs is not None:
            epochs = f"{run.epochs}/{run.max_epochs}"
        cells.append(
            [
                run.run_id,
                run.model,
                residual_label(run.residual),
                human_count(run.params),
                epochs,
                format_error(run.best["top1"]),
                format_error(run.final["top1"]),
                format_error(run.best["top5"]),
                format_error(run.final["top5"]),
                *(format_crossing(run, m) for m in metrics),
                run.status,
            ]
        )
    return header, cells


def markdown_table(header: list[str], cells: list[list[str]]) -> str:
    def line(values: list[str]) -> str:
        return "| " + " | ".join(value.replace("|", "\\|") for value in values) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *(line(row) for row in cells)])


def rich_table(header: list[str], cells: list[list[str]]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=TITLE)
    for name in header:
        table.add_column(name, overflow="fold")
    for row in cells:
        table.add_row(*(escape(cell) for cell in row))
    console = Console()
    if not console.is_terminal:  # piped or captured: no width to fit, keep rows whole
        console = Console(width=240)
    console.print(table)


def csv_table(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    if rows:
        fields = list(dict.fromkeys(key for row in rows for key in row))
        writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()


def curve_json(run: RunResult) -> dict[str, list[Any]]:
    return {
        "epoch": [point.epoch for point in run.curve],
        "step": [point.step for point in run.curve],
        "hours": [point.hours for point in run.curve],
        "top1": [point.top1 for point in run.curve],
        "top5": [point.top5 for point in run.curve],
    }


def json_document(result: CompareResult) -> dict[str, Any]:
    rows = [dict(row) for row in result.rows]
    if not result.group_by:  # one row per run, in the same order
        for row, run in zip(rows, result.runs, strict=True):
            row["validations"] = len(run.curve)
            row["curve"] = curve_json(run)
    return {
        "metric": list(result.metrics),
        "x": result.x,
        "group_by": result.group_by,
        "thresholds": {
            m: {"error": result.thresholds[m], "rule": result.threshold_rules[m]}
            for m in result.metrics
        },
        "rows": rows,
        "statement": result.statement,
        "figures": [str(path) for path in result.figures],
        "reports": [str(path) for path in result.reports],
        "warnings": result.warnings,
        "notes": result.notes,
    }


def print_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


def print_result(result: CompareResult, fmt: str) -> None:
    """Warnings on stderr; the table on stdout. CSV and JSON keep stdout to the data alone."""
    print_warnings(result.warnings)
    if fmt == "json":
        print(json.dumps(json_document(result), indent=2))
        return
    if fmt == "csv":
        sys.stdout.write(csv_table(result.rows))
        for note in result.notes:
            print(f"note: {note}", file=sys.stderr)
        for path in result.figures:
            print(f"wrote {path}", file=sys.stderr)
        return

    header, cells = display_columns(result)
    if fmt == "md":
        print(markdown_table(header, cells))
    else:
        rich_table(header, cells)
    print()
    for name in result.metrics:
        level = result.thresholds[name]
        if level is not None:
            print(f"Threshold {METRIC_LABEL[name]}: {level:.1f}% ({result.threshold_rules[name]}).")
    for note in result.notes:
        print(f"Note: {note}")
    print("\n".join(result.statement))
    for path in result.figures:
        print(f"wrote {path}")
