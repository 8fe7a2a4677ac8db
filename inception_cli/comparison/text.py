"""How numbers read in the comparison's tables and sentences."""

from __future__ import annotations

from inception_cli.comparison.results import METRIC_LABEL, Stat

MISSING = "—"


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


def format_epoch(epoch: float) -> str:
    """Whole epochs as integers; a mean over seeds may fall between them."""
    return f"{epoch:g}" if float(epoch).is_integer() else f"{epoch:.1f}"


def format_epoch_stat(value: Stat | None) -> str:
    if value is None:
        return MISSING
    mean = format_epoch(value.mean)
    return mean if value.n == 1 or value.std == 0 else f"{mean} ± {value.std:.1f}"


def plural_epochs(count: float) -> str:
    return f"{format_epoch(count)} epoch" + ("" if count == 1 else "s")


def error_level(threshold: float, metric: str) -> str:
    """A threshold as the statement names it: "29.0% top-1 error"."""
    return f"{threshold:.1f}% {METRIC_LABEL[metric]} error"


def with_status(name: str, status: str) -> str:
    """A run or group named in a legend or sentence; one that has not finished says so."""
    return name if status == "finished" else f"{name} [{status}]"


def residual_label(residual: bool | None) -> str:
    return {True: "residual", False: "pure", None: "?"}[residual]
