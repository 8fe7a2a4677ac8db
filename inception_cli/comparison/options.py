"""The options of `inception compare`, checked before any run is read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inception_cli.errors import InputError

METRICS = ("top1", "top5", "both")
X_AXES = ("epoch", "hours", "step", "images")
FORMATS = ("table", "md", "csv", "json")
GROUP_KEYS = ("model",)


@dataclass(frozen=True)
class CompareOptions:
    metrics: tuple[str, ...]  # --metric both is ("top1", "top5")
    x: str
    group_by: str | None
    threshold: float | None  # for the first of `metrics`
    output: Path | None  # None: next to the runs
    fmt: str


def check_choice(value: str | None, allowed: tuple[str, ...], option: str) -> None:
    if value is not None and value not in allowed:
        raise InputError(f"unknown {option} {value!r}; choose one of: {', '.join(allowed)}")


def check_options(
    *,
    metric: str,
    x: str,
    group_by: str | None,
    threshold: float | None,
    output: Path | None,
    fmt: str,
) -> CompareOptions:
    """The options as given on the command line; InputError naming the first one that is wrong."""
    check_choice(metric, METRICS, "--metric")
    check_choice(x, X_AXES, "--x")
    check_choice(fmt, FORMATS, "--format")
    check_choice(group_by, GROUP_KEYS, "--group-by")
    if threshold is not None and not 0 <= threshold <= 100:
        raise InputError(f"--threshold {threshold} is not an error in percent; give 0 to 100")
    return CompareOptions(
        metrics=("top1", "top5") if metric == "both" else (metric,),
        x=x,
        group_by=group_by,
        threshold=threshold,
        output=output,
        fmt=fmt,
    )
