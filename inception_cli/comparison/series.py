"""Groups of runs as figure lines: the mean over the runs, with a band for their spread.

The band is the range (min to max) for two runs, and mean ± one standard deviation for three or
more, where a range would be set by the single most extreme seed.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Hashable, Iterator

from inception_cli import catalog
from inception_cli.comparison.groups import unit_of
from inception_cli.comparison.plots import Series
from inception_cli.comparison.results import GroupResult, RunResult, ValPoint

# For models the catalog does not know (run directories from elsewhere), and for the second and
# later groups of one model (say, one residual scale against another).
SPARE_COLOURS = ("#2ca02c", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#9edae5", "#c49c94")
STD_FROM = 3  # runs from which the band is mean ± one standard deviation

# Per run: a position key (the epoch, or the step) -> (x, y) there.
PointsOfRun = Callable[[RunResult], dict[Hashable, tuple[float, float]]]


def band(values: list[float]) -> tuple[float, float]:
    if len(values) >= STD_FROM:
        mean, std = statistics.fmean(values), statistics.stdev(values)
        return mean - std, mean + std
    return min(values), max(values)


def group_colours(groups: list[GroupResult]) -> dict[str, str]:
    """A colour per group label: the catalog's for the first group of a model, spare colours in
    turn for the others."""
    spare = iter(SPARE_COLOURS * (len(groups) // len(SPARE_COLOURS) + 1))
    colours: dict[str, str] = {}
    coloured_models: set[str] = set()
    for group in groups:
        known = catalog.CATALOG.get(group.model)
        if known and group.model not in coloured_models:
            colours[group.label] = known.colour
        else:
            colours[group.label] = next(spare)
        coloured_models.add(group.model)
    return colours


def plotted_points(
    curve: list[ValPoint], x_axis: str, metric: str
) -> Iterator[tuple[ValPoint, float, float]]:
    """The validations that have both a position on `x_axis` and an error for `metric`."""
    for point in curve:
        x, y = point.position(x_axis), point.error(metric)
        if x is not None and y is not None:
            yield point, x, y


def validation_points(x_axis: str, metric: str) -> PointsOfRun:
    """A run's validation errors by epoch."""

    def points(run: RunResult) -> dict[Hashable, tuple[float, float]]:
        return {p.epoch: (float(x), y) for p, x, y in plotted_points(run.curve, x_axis, metric)}

    return points


def mean_series(
    group: GroupResult, points_of: PointsOfRun, *, label: str, colour: str
) -> Series | None:
    """The mean over the group's runs at each position at least one of them reached; x is the
    mean position there (the hours of one epoch differ between seeds)."""
    by_key: dict[Hashable, list[tuple[float, float]]] = {}
    for run in group.aggregated:
        for key, point in points_of(run).items():
            by_key.setdefault(key, []).append(point)
    if not by_key:
        return None
    keys = sorted(by_key, key=lambda key: statistics.fmean(x for x, _ in by_key[key]))
    ys = [[y for _, y in by_key[key]] for key in keys]
    several = len(group.aggregated) > 1
    return Series(
        label=label,
        model=group.model,
        colour=colour,
        residual=group.residual,
        x=[statistics.fmean(x for x, _ in by_key[key]) for key in keys],
        y=[statistics.fmean(values) for values in ys],
        band_low=[band(values)[0] for values in ys] if several else None,
        band_high=[band(values)[1] for values in ys] if several else None,
    )


def mean_label(group: GroupResult, noun: str) -> str:
    count = len(group.aggregated)
    return f"{group.label} (mean of {count} {noun})" if count > 1 else group.label


def seeds_or_runs(group: GroupResult) -> str:
    """ "seeds", or "runs" where two of the group's runs repeat a seed."""
    return f"{unit_of(group)}s"


def group_series(
    groups: list[GroupResult],
    points_of: PointsOfRun,
    colours: dict[str, str],
    noun: str | None = None,
    label: Callable[[GroupResult], str] | None = None,
) -> list[Series]:
    """One mean line per group that has points; `noun` names what the mean is over (seeds or
    runs, group by group, when not given)."""
    series = []
    for group in groups:
        name = label(group) if label else group.label
        line = mean_series(
            group,
            points_of,
            label=mean_label(group, noun or seeds_or_runs(group)).replace(group.label, name, 1),
            colour=colours[group.label],
        )
        if line is not None:
            series.append(line)
    return series
