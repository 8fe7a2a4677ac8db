"""The paper's residual-scaling observation (section 3.3, Fig 20): wide residual networks "died"
early in training, the last layer before the average pooling giving only zeros, unless the
residuals were scaled down by 0.1 to 0.3 before being added.

Training logs the share of exact zeros there as `train/dead_fraction`; this module draws it
beside the top-1 error of the same groups, and names the groups that died.
"""

from __future__ import annotations

import statistics
from collections.abc import Hashable
from dataclasses import replace

from inception_cli.comparison.figures import X_LABEL
from inception_cli.comparison.groups import stat, unit_of
from inception_cli.comparison.noise import over
from inception_cli.comparison.paper import (
    DEAD_AT,
    DEATH_FILTERS,
    RESIDUAL_SCALES,
    RESIDUAL_SCALING_STEM,
)
from inception_cli.comparison.plots import DrawnFigure, Panel, draw_panels, remove_stale_figure
from inception_cli.comparison.results import CompareResult, GroupResult, RunResult, Stat
from inception_cli.comparison.series import (
    PointsOfRun,
    group_colours,
    group_series,
    validation_points,
)

TITLE = "Residual scaling (section 3.3, Fig 20): dead activations and top-1 error"


def logs_dead_fraction(group: GroupResult) -> bool:
    return any(run.dead for run in group.aggregated)


def final_dead(group: GroupResult) -> Stat | None:
    """The last logged dead fraction of each seed, over the seeds."""
    return stat([run.dead[-1].value for run in group.aggregated if run.dead])


def peak_dead(group: GroupResult) -> Stat | None:
    return stat([max(point.value for point in run.dead) for run in group.aggregated if run.dead])


def scale_label(group: GroupResult) -> str:
    """The group's name with its residual scale, which this figure is about."""
    settings = group.runs[0].settings
    scale = settings.residual_scale if settings else None
    if not group.residual or scale is None or "residual_scale=" in group.label:
        return group.label
    return f"{group.label}, residual_scale={scale}"


def dead_points(x_axis: str) -> PointsOfRun:
    """A run's dead fraction (%) by position: per epoch the mean of its logged steps, placed at
    the end of the epoch like the validations; on the other axes every logged step."""

    def points(run: RunResult) -> dict[Hashable, tuple[float, float]]:
        if x_axis == "epoch":
            by_epoch: dict[int, list[float]] = {}
            for point in run.dead:
                by_epoch.setdefault(point.epoch, []).append(point.value)
            return {e: (float(e), 100 * statistics.fmean(v)) for e, v in by_epoch.items()}
        found: dict[Hashable, tuple[float, float]] = {}
        for point in run.dead:
            x = point.position(x_axis)
            if x is not None:
                found[point.step if point.step is not None else x] = (x, 100 * point.value)
        return found

    return points


def scaling_stems(metrics: tuple[str, ...]) -> list[str]:
    # Whatever the metrics compared: the figure's error panel is always top-1.
    return [RESIDUAL_SCALING_STEM]


def write_scaling_figure(result: CompareResult) -> list[DrawnFigure]:
    """The dead fraction beside the top-1 error, for the groups that logged it."""
    stem = result.output_dir / RESIDUAL_SCALING_STEM
    groups = [group for group in result.seed_groups if logs_dead_fraction(group)]
    colours = group_colours(result.seed_groups)
    dead = group_series(groups, dead_points(result.x), colours, label=scale_label)
    if not dead:
        remove_stale_figure(stem)
        return []
    errors = group_series(groups, validation_points(result.x, "top1"), colours, label=scale_label)
    x_label, integer_x = X_LABEL[result.x], result.x != "hours"
    # The share on a fixed 0-100% scale: a healthy ReLU network sits near half, a dead one at 100.
    dead_panel = Panel(dead, "Zeros before the average pooling", x_label, "dead fraction (%)")
    panels = [
        replace(dead_panel, integer_x=integer_x, y_limits=(0.0, 102.0)),
        Panel(errors, "Validation top-1 error", x_label, "top-1 error (%)", None, integer_x),
    ]
    result.output_dir.mkdir(parents=True, exist_ok=True)
    drawn = draw_panels(panels, stem=stem, title=TITLE)
    result.paper_figures[RESIDUAL_SCALING_STEM] = drawn
    return [drawn]


def scaling_text(result: CompareResult) -> list[str]:
    """What the paper says, above the figure: the reader needs it to read the left panel."""
    low, high = RESIDUAL_SCALES
    return [
        f"Section 3.3 of the paper: with more than about {DEATH_FILTERS:,} filters the residual"
        " networks became unstable and “died” early in training (the last layer before the"
        f" average pooling produced only zeros) unless the residuals were scaled by {low} to"
        f" {high} before being added (Fig 20). Left: the share of exact zeros there"
        " (train/dead_fraction); right: the top-1 error of the same runs."
    ]


def death_sentences(groups: list[GroupResult]) -> list[str]:
    """One sentence per group whose features before the pooling were (nearly) all zero at the
    end, as the paper's unscaled wide residual networks became."""
    sentences = []
    for group in groups:
        final = final_dead(group)
        if final is None or final.mean < DEAD_AT:
            continue
        sentences.append(
            f"{scale_label(group)} died: {100 * final.mean:.1f}% of the activations before the"
            f" average pooling were zero at its last logged step ({over(final.n, unit_of(group))}),"
            " as in the paper's section 3.3."
        )
    return sentences
