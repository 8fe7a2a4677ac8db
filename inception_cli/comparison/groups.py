"""Runs of one model (seeds) summed up as mean and sample standard deviation."""

from __future__ import annotations

import statistics
from collections.abc import Iterable

from inception_cli.comparison.results import GroupResult, RunResult, Stat, model_rank


def stat(values: Iterable[float | None]) -> Stat | None:
    """Over the values present; None when there are none."""
    present = [value for value in values if value is not None]
    if not present:
        return None
    std = statistics.stdev(present) if len(present) > 1 else 0.0
    return Stat(mean=statistics.fmean(present), std=std, n=len(present))


def group_by_model(runs: list[RunResult], metrics: tuple[str, ...]) -> list[GroupResult]:
    by_model: dict[str, list[RunResult]] = {}
    for run in runs:
        by_model.setdefault(run.model, []).append(run)
    groups = []
    for model, members in sorted(by_model.items(), key=lambda item: model_rank(item[0])):
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
        groups.append(
            GroupResult(
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
            )
        )
    return groups
