"""Runs summed up as mean and sample standard deviation: the runs of one model (`--group-by
model`), or the seeds of one experiment (runs whose settings differ only in their seed)."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Hashable, Iterable

from inception_cli import catalog
from inception_cli.comparison.results import GroupResult, RunResult, Stat, model_rank


def stat(values: Iterable[float | None]) -> Stat | None:
    """Over the values present; None when there are none."""
    present = [value for value in values if value is not None]
    if not present:
        return None
    std = statistics.stdev(present) if len(present) > 1 else 0.0
    return Stat(mean=statistics.fmean(present), std=std, n=len(present))


def summarise(model: str, members: list[RunResult], metrics: tuple[str, ...]) -> GroupResult:
    aggregated = [run for run in members if run.finished] or members
    reached_epoch: dict[str, Stat | None] = {}
    reached_hours: dict[str, Stat | None] = {}
    n_reached: dict[str, int] = {}
    for metric in metrics:
        crossings = [run.reached.get(metric) for run in aggregated]
        hit = [c for c in crossings if c is not None]
        reached_epoch[metric] = stat([float(c.epoch) for c in hit])
        reached_hours[metric] = stat([c.hours for c in hit])
        n_reached[metric] = len(hit)
    return GroupResult(
        model=model,
        residual=members[0].residual,
        params=members[0].params,
        runs=members,
        aggregated=aggregated,
        epochs=stat([float(run.epochs) for run in aggregated if run.epochs is not None]),
        best={m: stat([run.best[m] for run in aggregated]) for m in ("top1", "top5")},
        final={m: stat([run.final[m] for run in aggregated]) for m in ("top1", "top5")},
        reached_epoch=reached_epoch,
        reached_hours=reached_hours,
        n_reached=n_reached,
        label=catalog.display_name(model),
    )


def unit_of(group: GroupResult) -> str:
    """ "seed" when the group's runs have different seeds (or unknown ones), "run" when two of
    them repeat a seed: two runs of seed 0 are not two seeds."""
    known = [run.settings.seed for run in group.aggregated if run.settings is not None]
    seeds = [seed for seed in known if seed is not None]
    return "run" if len(set(seeds)) < len(seeds) else "seed"


def group_runs(
    runs: list[RunResult], metrics: tuple[str, ...], key: Callable[[RunResult], Hashable]
) -> list[GroupResult]:
    """One group per value of `key`, in the order of the runs' first appearance."""
    by_key: dict[Hashable, list[RunResult]] = {}
    for run in runs:
        by_key.setdefault(key(run), []).append(run)
    return [summarise(members[0].model, members, metrics) for members in by_key.values()]


def group_by_model(runs: list[RunResult], metrics: tuple[str, ...]) -> list[GroupResult]:
    groups = group_runs(runs, metrics, lambda run: run.model)
    return sorted(groups, key=lambda group: model_rank(group.model))


def settings_key(run: RunResult) -> Hashable:
    """Equal for runs that differ only in their seed; a run without settings stands alone."""
    if run.settings is None:
        return ("run", str(run.path))
    return (run.model, run.settings.source, run.settings.comparable)


def group_by_settings(runs: list[RunResult], metrics: tuple[str, ...]) -> list[GroupResult]:
    """The seeds of each experiment, labelled by what sets them apart from the other groups of
    the same model, e.g. "Inception-ResNet-v2 (residual_scale=0.1)"."""
    groups = group_runs(runs, metrics, settings_key)
    for model in {group.model for group in groups}:
        label_apart([group for group in groups if group.model == model])
    return sorted(groups, key=lambda group: (model_rank(group.model), group.label))


def readable(value: str | None) -> str:
    """A JSON value as an override would write it: strings without their quotes."""
    if value is None:
        return "—"
    try:
        loaded = json.loads(value)
    except ValueError:
        return value
    return loaded if isinstance(loaded, str) else value


def label_apart(groups: list[GroupResult]) -> None:
    """Name each group of one model by the settings in which those groups differ."""
    if len(groups) < 2:
        return
    settings = [dict(g.runs[0].settings.comparable) if g.runs[0].settings else {} for g in groups]
    keys = sorted({key for s in settings for key in s})
    differing = [key for key in keys if len({s.get(key) for s in settings}) > 1]
    for group, values in zip(groups, settings, strict=True):
        shown = ", ".join(
            f"{key.removeprefix('model.')}={readable(values.get(key))}" for key in differing[:3]
        )
        if len(differing) > 3:
            shown += ", …"
        if not shown:  # same settings read from different sources
            shown = group.runs[0].run_id
        group.label = f"{catalog.display_name(group.model)} ({shown})"
