"""`inception compare`: the paper's convergence comparison.

Figs 21-24 of the paper set each residual network against the pure Inception network of similar
cost (Inception-ResNet-v1 vs Inception-v3, Inception-ResNet-v2 vs Inception-v4); Figs 25 (top-5)
and 26 (top-1) show all four together: the residual versions converge faster, while the final
error depends mainly on model size. This module reads only `metrics.csv` and `summary.json` of
each run directory, prints a Table 2 style table and a short statement computed from the data,
and writes the convergence figures. It never imports torch or Lightning, so it works on a laptop
holding run directories copied back from a cluster, and on runs still in progress.

The x axis "epoch" counts completed epochs: Lightning logs a 0-based epoch, so a validation at
the end of the first epoch is plotted at 1.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inception_cli.errors import InputError
from inception_cli.plots import FIGURE_FORMATS, Series, draw_convergence, written_by_matplotlib

METRICS = ("top1", "top5", "both")
X_AXES = ("epoch", "hours", "step")
FORMATS = ("table", "md", "csv", "json")
GROUP_KEYS = ("model",)
MISSING = "—"

METRIC_LABEL = {"top1": "top-1", "top5": "top-5"}
METRIC_COLUMN = {"top1": "val/top1_error", "top5": "val/top5_error"}
PAPER_FIGURE = {"top1": "Fig 26", "top5": "Fig 25"}
X_LABEL = {"epoch": "epoch", "hours": "wall-clock time (hours)", "step": "training step"}

MODEL_ORDER = ("v3", "irv1", "v4", "irv2", "irv2_paper")
DISPLAY_NAME = {
    "v3": "Inception-v3",
    "irv1": "Inception-ResNet-v1",
    "v4": "Inception-v4",
    "irv2": "Inception-ResNet-v2",
    "irv2_paper": "Inception-ResNet-v2 (paper)",
}
RESIDUAL_MODELS = frozenset({"irv1", "irv2", "irv2_paper"})
PURE_MODELS = frozenset({"v3", "v4"})
# Residual network -> pure network of similar computational cost (the paper's pairing).
PURE_COUNTERPART = {"irv1": "v3", "irv2": "v4", "irv2_paper": "v4"}
# Counterparts share a hue family (blue, red) so the pairs read at a glance.
MODEL_COLOUR = {
    "v3": "#1f77b4",
    "irv1": "#17becf",
    "v4": "#d62728",
    "irv2": "#ff7f0e",
    "irv2_paper": "#9467bd",
}
SPARE_COLOURS = ("#2ca02c", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")

RUN_FILES = ("metrics.csv", "summary.json")
FIGURE_STEMS = {metric: f"convergence_{metric}" for metric in ("top1", "top5")}


@dataclass(frozen=True)
class ValPoint:
    """One validation of a run: where it happened and the errors (%) it measured."""

    epoch: int  # epochs completed
    step: int | None
    hours: float | None
    top1: float | None
    top5: float | None

    def error(self, metric: str) -> float | None:
        return self.top1 if metric == "top1" else self.top5

    def position(self, x: str) -> float | None:
        return {"epoch": float(self.epoch), "hours": self.hours, "step": self.step}[x]


@dataclass(frozen=True)
class Crossing:
    """The first validation at which a run's error was at or below the threshold."""

    epoch: int
    hours: float | None
    step: int | None


@dataclass
class RunResult:
    run_id: str
    path: Path
    model: str
    residual: bool | None
    params: int | None
    status: str
    epochs: int | None
    max_epochs: int | None
    curve: list[ValPoint]
    best: dict[str, float | None]
    final: dict[str, float | None]
    reached: dict[str, Crossing | None]  # absent key: no threshold for that metric

    @property
    def finished(self) -> bool:
        return self.status == "finished"


@dataclass(frozen=True)
class Stat:
    """Mean and sample standard deviation over `n` runs (std 0 for a single run)."""

    mean: float
    std: float
    n: int


@dataclass
class GroupResult:
    """Runs of one model (seeds). Statistics use its finished runs, or all when none finished."""

    model: str
    residual: bool | None
    params: int | None
    runs: list[RunResult]
    aggregated: list[RunResult]
    epochs: Stat | None
    best: dict[str, Stat | None]
    final: dict[str, Stat | None]
    reached_epoch: dict[str, Stat | None]
    reached_hours: dict[str, Stat | None]
    n_reached: dict[str, int]

    @property
    def status(self) -> str:
        counts: dict[str, int] = {}
        for run in self.runs:
            counts[run.status] = counts.get(run.status, 0) + 1
        return ", ".join(f"{count} {status}" for status, count in counts.items())


@dataclass
class CompareResult:
    metrics: tuple[str, ...]
    x: str
    group_by: str | None
    thresholds: dict[str, float | None]
    threshold_rules: dict[str, str]
    runs: list[RunResult]
    groups: list[GroupResult]
    rows: list[dict[str, Any]]
    statement: list[str]
    figures: list[Path]
    drawn: dict[str, Any]  # metric -> plots.DrawnFigure
    warnings: list[str]
    output_dir: Path | None


# ---------------------------------------------------------------------------------------------
# Finding and reading run directories


def is_run_dir(path: Path) -> bool:
    return any((path / name).is_file() for name in RUN_FILES)


def looks_like_compare_output(path: Path) -> bool:
    """A folder of our own figures, e.g. runs/compare/ picked up again by `runs/*`."""
    return any(
        (path / f"{stem}.{extension}").is_file()
        for stem in FIGURE_STEMS.values()
        for extension in FIGURE_FORMATS
    )


def find_run_dirs(paths: list[Path], warnings: list[str]) -> list[Path]:
    """Runs among `paths`; a sweep folder (runs one level down) expands into its runs."""
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            warnings.append(f"{path} is not a directory; skipped")
            continue
        if is_run_dir(path):
            found.append(path)
            continue
        children = sorted(child for child in path.iterdir() if child.is_dir() and is_run_dir(child))
        if children:
            found.extend(children)
        elif not looks_like_compare_output(path):
            warnings.append(
                f"{path} is not a run directory (no metrics.csv or summary.json); skipped"
            )
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


def read_curve(path: Path) -> list[ValPoint]:
    """Validation rows of a CSVLogger metrics.csv; a row cut short by a running job is skipped."""
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
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


def read_summary(path: Path, warnings: list[str]) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        warnings.append(f"{path} is not readable JSON ({err}); using metrics.csv alone")
        return {}
    return summary if isinstance(summary, dict) else {}


def model_from_dir_name(name: str) -> str:
    """Run ids end in the model name: 2026-11-27_21-03-11_irv2, 0_irv2_paper."""
    for model in sorted(DISPLAY_NAME, key=len, reverse=True):
        if name == model or name.endswith(f"_{model}"):
            return model
    return "?"


def is_residual(model: str, summary: dict[str, Any]) -> bool | None:
    if isinstance(summary.get("residual"), bool):
        return bool(summary["residual"])
    if model in RESIDUAL_MODELS:
        return True
    if model in PURE_MODELS:
        return False
    return None


def optional_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def optional_float(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def read_run(path: Path, warnings: list[str]) -> RunResult | None:
    summary = read_summary(path / "summary.json", warnings)
    curve: list[ValPoint] = []
    metrics_path = path / "metrics.csv"
    if metrics_path.is_file():
        try:
            curve = read_curve(metrics_path)
        except (OSError, UnicodeDecodeError, csv.Error) as err:
            warnings.append(f"{metrics_path} is not readable ({err})")
            if not summary:
                return None
    elif not summary:
        return None

    model = str(summary.get("model") or model_from_dir_name(path.name))
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
        residual=is_residual(model, summary),
        params=optional_int(summary.get("params")),
        status=str(summary.get("status") or "unknown"),
        epochs=epochs,
        max_epochs=optional_int(summary.get("max_epochs")),
        curve=curve,
        best=best,
        final=final,
        reached={},
    )


def model_rank(model: str) -> tuple[int, str]:
    return (MODEL_ORDER.index(model) if model in MODEL_ORDER else len(MODEL_ORDER), model)


# ---------------------------------------------------------------------------------------------
# Thresholds and groups


def default_threshold(runs: list[RunResult], metric: str) -> tuple[float | None, str]:
    """The highest final error among finished runs: every finished run reaches it, so the epoch
    at which each got there says who converged first. Without finished runs, all runs count."""
    finished = [run.final[metric] for run in runs if run.finished and run.final[metric] is not None]
    if finished:
        return max(v for v in finished if v is not None), "highest final error of finished runs"
    others = [run.final[metric] for run in runs if run.final[metric] is not None]
    if others:
        return max(v for v in others if v is not None), "highest latest error (no finished runs)"
    return None, "no data"


def first_crossing(curve: list[ValPoint], metric: str, threshold: float) -> Crossing | None:
    for point in curve:
        error = point.error(metric)
        if error is not None and error <= threshold:
            return Crossing(epoch=point.epoch, hours=point.hours, step=point.step)
    return None


def stat(values: list[float]) -> Stat | None:
    if not values:
        return None
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return Stat(mean=statistics.fmean(values), std=std, n=len(values))


def group_by_model(runs: list[RunResult], metrics: tuple[str, ...]) -> list[GroupResult]:
    by_model: dict[str, list[RunResult]] = {}
    for run in runs:
        by_model.setdefault(run.model, []).append(run)
    groups = []
    for model, members in sorted(by_model.items(), key=lambda item: model_rank(item[0])):
        aggregated = [run for run in members if run.finished] or members

        def collect(values: list[float | None]) -> Stat | None:
            return stat([v for v in values if v is not None])

        reached_epoch: dict[str, Stat | None] = {}
        reached_hours: dict[str, Stat | None] = {}
        n_reached: dict[str, int] = {}
        for metric in metrics:
            crossings = [run.reached.get(metric) for run in aggregated]
            hit = [c for c in crossings if c is not None]
            reached_epoch[metric] = collect([float(c.epoch) for c in hit])
            reached_hours[metric] = collect([c.hours for c in hit])
            n_reached[metric] = len(hit)
        epochs = collect(
            [float(run.epochs) if run.epochs is not None else None for run in aggregated]
        )
        groups.append(
            GroupResult(
                model=model,
                residual=members[0].residual,
                params=members[0].params,
                runs=members,
                aggregated=aggregated,
                epochs=epochs,
                best={m: collect([run.best[m] for run in aggregated]) for m in ("top1", "top5")},
                final={m: collect([run.final[m] for run in aggregated]) for m in ("top1", "top5")},
                reached_epoch=reached_epoch,
                reached_hours=reached_hours,
                n_reached=n_reached,
            )
        )
    return groups


# ---------------------------------------------------------------------------------------------
# Formatting


def human_count(count: int | None) -> str:
    if count is None:
        return MISSING
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if count >= size:
            return f"{count / size:.1f}{suffix}"
    return str(count)


def format_hours(hours: float | None) -> str:
    if hours is None:
        return ""
    return f"{hours:.2f} h" if hours >= 1 else f"{hours * 60:.1f} min"


def format_error(value: float | None) -> str:
    return MISSING if value is None else f"{value:.1f}"


def format_stat(value: Stat | None) -> str:
    if value is None:
        return MISSING
    if value.n == 1:
        return f"{value.mean:.1f}"
    return f"{value.mean:.1f} ± {value.std:.1f}"


def format_epoch_stat(value: Stat | None) -> str:
    if value is None:
        return MISSING
    mean = f"{value.mean:g}" if value.mean.is_integer() else f"{value.mean:.1f}"
    return mean if value.n == 1 or value.std == 0 else f"{mean} ± {value.std:.1f}"


def residual_label(residual: bool | None) -> str:
    return {True: "residual", False: "pure", None: "?"}[residual]


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


def display_columns(
    result: CompareResult,
) -> tuple[list[str], list[list[str]]]:
    """Header and cells of the human-readable table (rich and Markdown)."""
    metrics = result.metrics
    reach = [reach_header(m, result.thresholds[m]) for m in metrics]
    if result.groups and result.group_by:
        header = ["model", "type", "params", "runs", "epochs", "best top-1", "final top-1"]
        header += ["best top-5", "final top-5", *reach, "status"]
        cells = []
        for group in result.groups:
            cells.append(
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
            )
        return header, cells
    header = ["run", "model", "type", "params", "epochs", "best top-1", "final top-1"]
    header += ["best top-5", "final top-5", *reach, "status"]
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
        "warnings": result.warnings,
    }


# ---------------------------------------------------------------------------------------------
# The statement


@dataclass(frozen=True)
class Contender:
    """A run or a group of seeds, as the statement names it."""

    name: str
    model: str
    status: str  # a group is "finished" when any of its runs finished
    final: float | None
    reached_epoch: float | None  # mean over seeds for a group
    has_data: bool


def format_epoch(epoch: float) -> str:
    return f"{epoch:g}" if float(epoch).is_integer() else f"{epoch:.1f}"


def plural_epochs(count: float) -> str:
    return f"{format_epoch(count)} epoch" + ("" if count == 1 else "s")


def run_name(run: RunResult, shared_models: set[str]) -> str:
    name = DISPLAY_NAME.get(run.model, run.model)
    return f"{name} ({run.run_id})" if run.model in shared_models else name


def mean_of(value: Stat | None) -> float | None:
    return value.mean if value is not None else None


def contenders_of(result: CompareResult, metric: str) -> list[Contender]:
    if result.group_by:
        return [
            Contender(
                name=DISPLAY_NAME.get(group.model, group.model),
                model=group.model,
                status=group.aggregated[0].status,
                final=mean_of(group.final[metric]),
                reached_epoch=mean_of(group.reached_epoch.get(metric)),
                has_data=group.best[metric] is not None,
            )
            for group in result.groups
        ]
    models = [run.model for run in result.runs]
    shared = {model for model in models if models.count(model) > 1}
    contenders = []
    for run in result.runs:
        crossing = run.reached.get(metric)
        contenders.append(
            Contender(
                name=run_name(run, shared),
                model=run.model,
                status=run.status,
                final=run.final[metric],
                reached_epoch=float(crossing.epoch) if crossing else None,
                has_data=run.best[metric] is not None,
            )
        )
    return contenders


def who_got_there_first(contenders: list[Contender], metric: str, threshold: float) -> str:
    label = f"{threshold:.1f}% {METRIC_LABEL[metric]} error"
    reached = sorted(
        (c for c in contenders if c.reached_epoch is not None),
        key=lambda c: c.reached_epoch or 0.0,
    )
    never = [
        c.name if c.status == "finished" else f"{c.name} [{c.status}]"
        for c in contenders
        if c.has_data and c.reached_epoch is None
    ]
    if not reached:
        return f"No run reached {label}."
    first = reached[0]
    assert first.reached_epoch is not None
    tied = [c for c in reached if c.reached_epoch == first.reached_epoch]
    if len(tied) > 1:
        names = " and ".join(c.name for c in tied)
        sentence = (
            f"{names} reached {label} first, together (epoch {format_epoch(first.reached_epoch)})."
        )
    else:
        sentence = f"{first.name} reached {label} first (epoch {format_epoch(first.reached_epoch)})"
        if len(reached) > 1:
            second = reached[1]
            assert second.reached_epoch is not None
            gap = second.reached_epoch - first.reached_epoch
            sentence += (
                f", {plural_epochs(gap)} before {second.name}"
                f" (epoch {format_epoch(second.reached_epoch)})"
            )
        sentence += "."
    if never:
        sentence += f" Did not reach it: {', '.join(never)}."
    return sentence


def residual_vs_pure(contenders: list[Contender], metric: str, threshold: float) -> list[str]:
    """Each residual network against the pure network of similar cost (Figs 21-24)."""
    by_model: dict[str, list[Contender]] = {}
    for contender in contenders:
        if contender.has_data:
            by_model.setdefault(contender.model, []).append(contender)

    def mean_epoch(model: str) -> float | None:
        epochs = [c.reached_epoch for c in by_model[model] if c.reached_epoch is not None]
        return statistics.fmean(epochs) if epochs else None

    sentences = []
    for residual, pure in PURE_COUNTERPART.items():
        if residual not in by_model or pure not in by_model:
            continue
        residual_name, pure_name = DISPLAY_NAME[residual], DISPLAY_NAME[pure]
        residual_epoch, pure_epoch = mean_epoch(residual), mean_epoch(pure)
        label = f"{threshold:.1f}% {METRIC_LABEL[metric]} error"
        if residual_epoch is None and pure_epoch is None:
            sentences.append(f"Neither {residual_name} nor {pure_name} reached {label}.")
        elif residual_epoch is None or pure_epoch is None:
            winner, loser = (pure, residual) if residual_epoch is None else (residual, pure)
            epoch = pure_epoch if residual_epoch is None else residual_epoch
            assert epoch is not None
            running = any(c.status == "running" for c in by_model[loser])
            outcome = "has not yet (still running)" if running else "never did"
            sentences.append(
                f"{DISPLAY_NAME[winner]} reached {label} (epoch {format_epoch(epoch)});"
                f" {DISPLAY_NAME[loser]} {outcome}."
            )
        elif residual_epoch == pure_epoch:
            sentences.append(
                f"{residual_name} and {pure_name} (similar cost) reached {label} at the same epoch"
                f" ({format_epoch(residual_epoch)})."
            )
        else:
            faster, slower = (residual_name, pure_name)
            if pure_epoch < residual_epoch:
                faster, slower = slower, faster
            early, late = sorted((residual_epoch, pure_epoch))
            sentences.append(
                f"{faster} converged faster than {slower} (similar cost): {label} reached"
                f" {plural_epochs(late - early)} earlier"
                f" (epoch {format_epoch(early)} vs {format_epoch(late)})."
            )
    return sentences


def lowest_final(contenders: list[Contender], metric: str) -> str | None:
    finished = [c for c in contenders if c.status == "finished" and c.final is not None]
    pool = finished or [c for c in contenders if c.final is not None]
    if not pool:
        return None
    best = min(pool, key=lambda c: c.final if c.final is not None else math.inf)
    note = "" if finished else " (no run has finished yet)"
    return f"Lowest final {METRIC_LABEL[metric]} error: {best.name} ({best.final:.1f}%){note}."


def write_statement(result: CompareResult) -> list[str]:
    if len(result.runs) == 1:
        run = result.runs[0]
        finals = ", ".join(
            f"final {METRIC_LABEL[m]} error {run.final[m]:.1f}%"
            for m in result.metrics
            if run.final[m] is not None
        )
        detail = f": {finals}" if finals else ""
        return [f"Only one run ({run.run_id}){detail}; there is nothing to compare."]
    sentences = []
    for metric in result.metrics:
        contenders = contenders_of(result, metric)
        with_data = [c for c in contenders if c.has_data]
        if len(with_data) < 2:
            sentences.append(
                f"Fewer than two {'models' if result.group_by else 'runs'} have"
                f" {METRIC_LABEL[metric]} errors; there is nothing to compare."
            )
            continue
        threshold = result.thresholds[metric]
        if threshold is not None:
            sentences.append(who_got_there_first(contenders, metric, threshold))
            sentences.extend(residual_vs_pure(contenders, metric, threshold))
        lowest = lowest_final(contenders, metric)
        if lowest:
            sentences.append(lowest)
    return sentences


# ---------------------------------------------------------------------------------------------
# Figures


def model_colours(models: list[str]) -> dict[str, str]:
    colours = {}
    spare = iter(SPARE_COLOURS * (len(models) // len(SPARE_COLOURS) + 1))
    for model in sorted(set(models), key=model_rank):
        colours[model] = MODEL_COLOUR.get(model) or next(spare)
    return colours


def run_series(result: CompareResult, metric: str, colours: dict[str, str]) -> list[Series]:
    models = [run.model for run in result.runs]
    shared = {model for model in models if models.count(model) > 1}
    series = []
    for run in result.runs:
        points = [
            (x, y)
            for x, y in ((p.position(result.x), p.error(metric)) for p in run.curve)
            if x is not None and y is not None
        ]
        if not points:
            continue
        name = DISPLAY_NAME.get(run.model, run.model)
        label = f"{name} ({run.run_id})" if run.model in shared else name
        if not run.finished:
            label += f" [{run.status}]"
        series.append(
            Series(
                label=label,
                model=run.model,
                colour=colours[run.model],
                residual=run.residual,
                x=[float(x) for x, _ in points],
                y=[y for _, y in points],
            )
        )
    return series


def group_series(result: CompareResult, metric: str, colours: dict[str, str]) -> list[Series]:
    """Mean over seeds at each epoch, with a min-max band; x is the mean position there."""
    series = []
    for group in result.groups:
        by_epoch: dict[int, list[tuple[float, float]]] = {}
        for run in group.aggregated:
            for point in run.curve:
                x, y = point.position(result.x), point.error(metric)
                if x is not None and y is not None:
                    by_epoch.setdefault(point.epoch, []).append((x, y))
        if not by_epoch:
            continue
        epochs = sorted(by_epoch)
        ys = [[y for _, y in by_epoch[e]] for e in epochs]
        count = len(group.aggregated)
        name = DISPLAY_NAME.get(group.model, group.model)
        series.append(
            Series(
                label=f"{name} (mean of {count} runs)" if count > 1 else name,
                model=group.model,
                colour=colours[group.model],
                residual=group.residual,
                x=[statistics.fmean(x for x, _ in by_epoch[e]) for e in epochs],
                y=[statistics.fmean(values) for values in ys],
                band_low=[min(values) for values in ys] if count > 1 else None,
                band_high=[max(values) for values in ys] if count > 1 else None,
            )
        )
    return series


def default_output_dir(run_dirs: list[Path]) -> Path:
    """`<common parent of the runs>/compare`: runs/* gives runs/compare, a sweep its own."""
    parents = [str(path.resolve().parent) for path in run_dirs]
    common = Path(os.path.commonpath(parents))
    try:
        return (common / "compare").relative_to(Path.cwd())
    except ValueError:
        return common / "compare"


def check_output_dir(output_dir: Path, metrics: tuple[str, ...]) -> None:
    """Refuse to replace a file we did not write; our own earlier figures may be replaced."""
    if output_dir.exists() and not output_dir.is_dir():
        raise InputError(f"--output {output_dir} is a file; give a folder for the figures")
    for metric in metrics:
        for extension in FIGURE_FORMATS:
            path = output_dir / f"{FIGURE_STEMS[metric]}.{extension}"
            if path.exists() and (not path.is_file() or not written_by_matplotlib(path)):
                raise InputError(
                    f"{path} exists and is not a figure from `inception compare`; "
                    "move it or choose another --output"
                )


def write_figures(result: CompareResult, output_dir: Path) -> None:
    colours = model_colours([run.model for run in result.runs])
    for metric in result.metrics:
        series = (group_series if result.group_by else run_series)(result, metric, colours)
        if not series:
            result.warnings.append(f"no run has {METRIC_LABEL[metric]} errors to plot")
            continue
        output_dir.mkdir(parents=True, exist_ok=True)
        drawn = draw_convergence(
            series,
            title=f"Validation {METRIC_LABEL[metric]} error ({PAPER_FIGURE[metric]} style)",
            x_label=X_LABEL[result.x],
            y_label=f"{METRIC_LABEL[metric]} error (%)",
            threshold=result.thresholds[metric],
            stem=output_dir / FIGURE_STEMS[metric],
            integer_x=result.x != "hours",
        )
        result.drawn[metric] = drawn
        result.figures.extend(drawn.paths)


# ---------------------------------------------------------------------------------------------
# The command


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
            f"no readable run directory among {given}; a run holds metrics.csv or summary.json"
        )
    runs.sort(key=lambda run: (model_rank(run.model), run.run_id))

    thresholds: dict[str, float | None] = {}
    rules: dict[str, str] = {}
    for name in metrics:
        if threshold is not None and name == metrics[0]:
            thresholds[name], rules[name] = threshold, "given"
        else:
            thresholds[name], rules[name] = default_threshold(runs, name)
        level = thresholds[name]
        for run in runs:
            run.reached[name] = (
                first_crossing(run.curve, name, level) if level is not None else None
            )

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


def print_result(result: CompareResult, fmt: str) -> None:
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if fmt == "json":
        print(json.dumps(json_document(result), indent=2))
        return
    if fmt == "csv":
        sys.stdout.write(csv_table(result.rows))
        for path in result.figures:
            print(f"wrote {path}", file=sys.stderr)
        return

    header, cells = display_columns(result)
    if fmt == "md":
        print(markdown_table(header, cells))
    else:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        table = Table(title="Convergence (Table 2 style; errors in %, validation)")
        for name in header:
            table.add_column(name, overflow="fold")
        for row in cells:
            table.add_row(*(escape(cell) for cell in row))
        console = Console()
        if not console.is_terminal:  # piped or captured: no width to fit, keep rows whole
            console = Console(width=240)
        console.print(table)
    print()
    for name in result.metrics:
        level = result.thresholds[name]
        if level is not None:
            print(f"Threshold {METRIC_LABEL[name]}: {level:.1f}% ({result.threshold_rules[name]}).")
    print("\n".join(result.statement))
    for path in result.figures:
        print(f"wrote {path}")
