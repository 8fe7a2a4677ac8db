"""How many classes the runs were trained on, and what that leaves of the top-5 error.

With ten classes or fewer, five guesses cover half the classes or more: once a network has learnt
anything its top-5 error is nearly always 0-1%, and a figure or sentence about it says nothing
about convergence. Such comparisons leave the top-5 figures and sentences out (unless --metric
top5 asks for them alone) and say why.
"""

from __future__ import annotations

from inception_cli.comparison.results import RunResult

FEW_CLASSES = 10  # at or below this, the top-5 error says next to nothing
BOTH = ("top1", "top5")


def class_count(runs: list[RunResult]) -> int | None:
    """The largest number of classes the runs record (saved config, else summary.json)."""
    counts = [
        run.settings.num_classes
        for run in runs
        if run.settings is not None and run.settings.num_classes is not None
    ]
    return max(counts) if counts else None


def top5_note(classes: int, left_out: bool) -> str:
    said = (
        f"With {classes} classes the top-5 error says little: five guesses out of {classes}"
        " classes, it is nearly always 0-1% once a network has learnt anything."
    )
    if left_out:
        return (
            f"{said} The top-5 figures (Figs 22, 24, 25 and convergence_top5) and the top-5"
            " sentences are left out; the tables keep the top-5 numbers."
        )
    return f"{said} The top-5 figures are drawn because --metric top5 asked for them."


def metrics_worth_showing(
    metrics: tuple[str, ...], classes: int | None
) -> tuple[tuple[str, ...], list[str]]:
    """The metrics to draw and speak of, and the notes that say what was left out and why."""
    if classes is None or classes > FEW_CLASSES or "top5" not in metrics:
        return metrics, []
    if metrics == BOTH:
        return ("top1",), [top5_note(classes, left_out=True)]
    return metrics, [top5_note(classes, left_out=False)]
