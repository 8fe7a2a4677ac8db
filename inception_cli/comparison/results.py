"""What a comparison holds: runs with their validation curves, groups of seeds, the figures drawn.

The x axis "epoch" counts completed epochs: Lightning logs a 0-based epoch, so a validation at
the end of the first epoch is at epoch 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inception_cli import catalog
from inception_cli.comparison.plots import DrawnFigure

METRIC_LABEL = {"top1": "top-1", "top5": "top-5"}


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
    drawn: dict[str, DrawnFigure]  # by metric
    warnings: list[str]
    output_dir: Path  # where the figures go


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
