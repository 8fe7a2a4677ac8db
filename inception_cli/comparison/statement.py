"""The sentences under the table: who reached the threshold first, each residual network against
the pure network of similar cost (Figs 21-24), and the lowest final error."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from inception_cli import catalog
from inception_cli.comparison.results import METRIC_LABEL, CompareResult, Stat, run_names
from inception_cli.comparison.text import error_level, format_epoch, plural_epochs, with_status


@dataclass(frozen=True)
class Contender:
    """A run or a group of seeds, as the statement names it."""

    name: str
    model: str
    status: str  # a group is "finished" when any of its runs finished
    final: float | None
    reached_epoch: float | None  # mean over seeds for a group
    has_data: bool


def mean_of(value: Stat | None) -> float | None:
    return value.mean if value is not None else None


def contenders_of(result: CompareResult, metric: str) -> list[Contender]:
    if result.group_by:
        return [
            Contender(
                name=catalog.display_name(group.model),
                model=group.model,
                status=group.aggregated[0].status,
                final=mean_of(group.final[metric]),
                reached_epoch=mean_of(group.reached_epoch.get(metric)),
                has_data=group.best[metric] is not None,
            )
            for group in result.groups
        ]
    contenders = []
    for run, name in zip(result.runs, run_names(result.runs), strict=True):
        crossing = run.reached.get(metric)
        contenders.append(
            Contender(
                name=name,
                model=run.model,
                status=run.status,
                final=run.final[metric],
                reached_epoch=float(crossing.epoch) if crossing else None,
                has_data=run.best[metric] is not None,
            )
        )
    return contenders


def who_got_there_first(contenders: list[Contender], metric: str, threshold: float) -> str:
    label = error_level(threshold, metric)
    reached = sorted(
        (c for c in contenders if c.reached_epoch is not None),
        key=lambda c: c.reached_epoch or 0.0,
    )
    never = [
        with_status(c.name, c.status) for c in contenders if c.has_data and c.reached_epoch is None
    ]
    if not reached:
        return f"No run reached {label}."
    first = reached[0]
    assert first.reached_epoch is not None
    tied = [c for c in reached if c.reached_epoch == first.reached_epoch]
    if len(tied) > 1:
        names = " and ".join(c.name for c in tied)
        sentence = (
            f"{names} reached {label} first, together (epoch {format_epoch(first.reached_epoch)})."
        )
    else:
        sentence = f"{first.name} reached {label} first (epoch {format_epoch(first.reached_epoch)})"
        if len(reached) > 1:
            second = reached[1]
            assert second.reached_epoch is not None
            gap = second.reached_epoch - first.reached_epoch
            sentence += (
                f", {plural_epochs(gap)} before {second.name}"
                f" (epoch {format_epoch(second.reached_epoch)})"
            )
        sentence += "."
    if never:
        sentence += f" Did not reach it: {', '.join(never)}."
    return sentence


def paper_pairs() -> list[tuple[str, str]]:
    """(residual, pure) networks of similar cost that the paper sets side by side (Figs 21-24)."""
    return [(name, entry.paper_pair) for name, entry in catalog.CATALOG.items() if entry.paper_pair]


def residual_vs_pure(contenders: list[Contender], metric: str, threshold: float) -> list[str]:
    """Each residual network against the pure network of similar cost (Figs 21-24)."""
    by_model: dict[str, list[Contender]] = {}
    for contender in contenders:
        if contender.has_data:
            by_model.setdefault(contender.model, []).append(contender)
    label = error_level(threshold, metric)
    return [
        pair_sentence(residual, by_model[residual], pure, by_model[pure], label)
        for residual, pure in paper_pairs()
        if residual in by_model and pure in by_model
    ]


def mean_reached_epoch(contenders: list[Contender]) -> float | None:
    epochs = [c.reached_epoch for c in contenders if c.reached_epoch is not None]
    return statistics.fmean(epochs) if epochs else None


def pair_sentence(
    residual: str, residual_runs: list[Contender], pure: str, pure_runs: list[Contender], label: str
) -> str:
    """Which of the pair reached `label` first, over the mean epoch of each model's runs."""
    residual_name, pure_name = catalog.display_name(residual), catalog.display_name(pure)
    residual_epoch, pure_epoch = mean_reached_epoch(residual_runs), mean_reached_epoch(pure_runs)
    if residual_epoch is None:
        if pure_epoch is None:
            return f"Neither {residual_name} nor {pure_name} reached {label}."
        return one_of_pair_reached(pure_name, pure_epoch, residual_name, residual_runs, label)
    if pure_epoch is None:
        return one_of_pair_reached(residual_name, residual_epoch, pure_name, pure_runs, label)
    if residual_epoch == pure_epoch:
        return (
            f"{residual_name} and {pure_name} (similar cost) reached {label} at the same epoch"
            f" ({format_epoch(residual_epoch)})."
        )
    faster, slower = (residual_name, pure_name)
    if pure_epoch < residual_epoch:
        faster, slower = slower, faster
    early, late = sorted((residual_epoch, pure_epoch))
    return (
        f"{faster} converged faster than {slower} (similar cost): {label} reached"
        f" {plural_epochs(late - early)} earlier"
        f" (epoch {format_epoch(early)} vs {format_epoch(late)})."
    )


def one_of_pair_reached(
    name: str, epoch: float, other: str, other_runs: list[Contender], label: str
) -> str:
    """One network of a pair reached `label`; the other either still may or never did."""
    running = any(c.status == "running" for c in other_runs)
    outcome = "has not yet (still running)" if running else "never did"
    return f"{name} reached {label} (epoch {format_epoch(epoch)}); {other} {outcome}."


def lowest_final(contenders: list[Contender], metric: str) -> str | None:
    finished = [c for c in contenders if c.status == "finished" and c.final is not None]
    pool = finished or [c for c in contenders if c.final is not None]
    if not pool:
        return None
    best = min(pool, key=lambda c: c.final if c.final is not None else math.inf)
    note = "" if finished else " (no run has finished yet)"
    return f"Lowest final {METRIC_LABEL[metric]} error: {best.name} ({best.final:.1f}%){note}."


def write_statement(result: CompareResult) -> list[str]:
    if len(result.runs) == 1:
        run = result.runs[0]
        finals = ", ".join(
            f"final {METRIC_LABEL[m]} error {run.final[m]:.1f}%"
            for m in result.metrics
            if run.final[m] is not None
        )
        detail = f": {finals}" if finals else ""
        return [f"Only one run ({run.run_id}){detail}; there is nothing to compare."]
    sentences = []
    for metric in result.metrics:
        contenders = contenders_of(result, metric)
        with_data = [c for c in contenders if c.has_data]
        if len(with_data) < 2:
            sentences.append(
                f"Fewer than two {'models' if result.group_by else 'runs'} have"
                f" {METRIC_LABEL[metric]} errors; there is nothing to compare."
            )
            continue
        threshold = result.thresholds[metric]
        if threshold is not None:
            sentences.append(who_got_there_first(contenders, metric, threshold))
            sentences.extend(residual_vs_pure(contenders, metric, threshold))
        lowest = lowest_final(contenders, metric)
        if lowest:
            sentences.append(lowest)
    return sentences
