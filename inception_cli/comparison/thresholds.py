"""The error threshold of each metric, and the first validation at which each run reached it."""

from __future__ import annotations

from inception_cli.comparison.results import Crossing, RunResult, ValPoint


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


def set_thresholds(
    runs: list[RunResult], metrics: tuple[str, ...], given: float | None
) -> tuple[dict[str, float | None], dict[str, str]]:
    """Thresholds and the rule behind each; fills each run's `reached`. A given threshold is for
    the first metric (top-1 with --metric both); the others use `default_threshold`."""
    thresholds: dict[str, float | None] = {}
    rules: dict[str, str] = {}
    for metric in metrics:
        if given is not None and metric == metrics[0]:
            thresholds[metric], rules[metric] = given, "given"
        else:
            thresholds[metric], rules[metric] = default_threshold(runs, metric)
        level = thresholds[metric]
        for run in runs:
            run.reached[metric] = (
                first_crossing(run.curve, metric, level) if level is not None else None
            )
    return thresholds, rules
