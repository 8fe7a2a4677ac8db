"""What a comparison holds: runs with their validation curves, groups of seeds, the figures drawn.

The x axis "epoch" counts completed epochs: Lightning logs a 0-based epoch, so a validation at
the end of the first epoch is at epoch 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inception_cli import catalog
from inception_cli.comparison.plots import DrawnFigure
from inception_cli.comparison.settings import RunSettings

METRIC_LABEL = {"top1": "top-1", "top5": "top-5"}


@dataclass(frozen=True)
class ValPoint:
    """One validation of a run: where it happened and the errors (%) it measured."""

    epoch: int  # epochs completed
    step: int | None
    hours: float | None
    top1: float | None
    top5: float | None
    images: float | None = None  # images seen: steps done x global batch

    def error(self, metric: str) -> float | None:
        return self.top1 if metric == "top1" else self.top5

    def position(self, x: str) -> float | None:
        return position(x, float(self.epoch), self.step, self.hours, self.images)


@dataclass(frozen=True)
class DeadPoint:
    """`train/dead_fraction` of one training row: the share of exact zeros in the features
    before the average pooling (section 3.3), 0 to 1."""

    epoch: int  # epochs completed when the epoch this step belongs to ends
    step: int | None
    hours: float | None
    value: float
    images: float | None = None

    def position(self, x: str) -> float | None:
        return position(x, float(self.epoch), self.step, self.hours, self.images)


def position(
    x: str, epoch: float, step: int | None, hours: float | None, images: float | None
) -> float | None:
    return {"epoch": epoch, "hours": hours, "step": step, "images": images}[x]


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
    settings: RunSettings | None = None
    dead: list[DeadPoint] = field(default_factory=list)

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
    label: str = ""  # the paper's name, and what sets it apart from other groups of its model

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
    drawn: dict[str, DrawnFigure]  # by metric
    warnings: list[str]
    output_dir: Path  # where the figures go
    # Runs that differ only in their seed; the statement and the paper's figures use these.
    seed_groups: list[GroupResult] = field(default_factory=list)
    paper_figures: dict[str, DrawnFigure] = field(default_factory=dict)  # by file stem
    # What each registered figure kind drew (figure_registry.py), for the report.
    figures_by_kind: dict[str, list[DrawnFigure]] = field(default_factory=dict)
    reports: list[Path] = field(default_factory=list)  # report.html, report.md
    # What the comparison left out and why (the top-5 error on few classes: classes.py).
    notes: list[str] = field(default_factory=list)
    classes: int | None = None  # the largest number of classes the runs record


def model_rank(model: str) -> tuple[int, str]:
    """Sort key: the catalog's order; models it does not know come last, by name."""
    return catalog.order(model), model


def run_names(runs: list[RunResult]) -> list[str]:
    """The model's name of each run, with the run id where several runs share a model."""
    models = [run.model for run in runs]
    shared = {model for model in models if models.count(model) > 1}
    return [
        f"{catalog.display_name(run.model)} ({run.run_id})"
        if run.model in shared
        else catalog.display_name(run.model)
        for run in runs
    ]
