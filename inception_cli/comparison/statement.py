"""The sentences under the table: who reached the threshold first, each residual network against
the pure network of similar cost (Figs 21-24), and the lowest final error.

They speak of groups of seeds (runs whose settings differ only in the seed; the runs of a model
with `--group-by model`), say over how many seeds each number is, and whether a gap between two
groups is larger than the spread of their seeds (noise.py).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from inception_cli import catalog
from inception_cli.comparison.groups import unit_of
from inception_cli.comparison.noise import counted, counts_of, over, verdict
from inception_cli.comparison.results import METRIC_LABEL, CompareResult, GroupResult
from inception_cli.comparison.scaling import death_sentences
from inception_cli.comparison.text import error_level, format_epoch, plural_epochs, with_status


@dataclass(frozen=True)
class Contender:
    """A group of seeds, as the statement names it."""

    name: str
    model: str
    status: str  # "finished" when any of its runs finished
    reached: list[float | None]  # per seed: the epoch it reached the threshold, None if never
    finals: list[float | None]  # per seed: the final error
    unit: str  # "seed", or "run" where runs repeat a seed

    @property
    def count(self) -> int:
        return len(self.reached)

    @property
    def reached_epoch(self) -> float | None:
        """Mean over the seeds that reached the threshold."""
        hit = [epoch for epoch in self.reached if epoch is not None]
        return statistics.fmean(hit) if hit else None

    @property
    def final(self) -> float | None:
        present = [value for value in self.finals if value is not None]
        return statistics.fmean(present) if present else None

    @property
    def has_data(self) -> bool:
        return self.final is not None


def contender(group: GroupResult, metric: str) -> Contender:
    crossings = [run.reached.get(metric) for run in group.aggregated]
    return Contender(
        name=group.label or catalog.display_name(group.model),
        model=group.model,
        status=group.aggregated[0].status,
        reached=[float(c.epoch) if c else None for c in crossings],
        finals=[run.final[metric] for run in group.aggregated],
        unit=unit_of(group),
    )


def contenders_of(result: CompareResult, metric: str) -> list[Contender]:
    groups = result.groups if result.group_by else result.seed_groups
    return [contender(group, metric) for group in groups]


def unit_of_both(a: Contender, b: Contender) -> str:
    return "seed" if a.unit == b.unit == "seed" else "run"


def epoch_and_count(c: Contender) -> str:
    return f"epoch {format_epoch(c.reached_epoch or 0.0)}, {over(c.count, c.unit)}"


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
    tied = [c for c in reached if c.reached_epoch == first.reached_epoch]
    if len(tied) > 1:
        names = " and ".join(c.name for c in tied)
        counts = counts_of([(c.name, c.count, c.unit) for c in tied])
        sentence = (
            f"{names} reached {label} first, together"
            f" (epoch {format_epoch(first.reached_epoch or 0.0)}; {counts})."
        )
    else:
        sentence = f"{first.name} reached {label} first ({epoch_and_count(first)})"
        if len(reached) > 1:
            second = reached[1]
            gap = (second.reached_epoch or 0.0) - (first.reached_epoch or 0.0)
            sentence += (
                f", {plural_epochs(gap)} before {second.name} ({epoch_and_count(second)}):"
                f" {verdict(first.reached, second.reached, 'faster', unit_of_both(first, second))}"
            )
        sentence += "."
    if never:
        sentence += f" Did not reach it: {', '.join(never)}."
    return sentence


def paper_pairs() -> list[tuple[str, str]]:
    """(residual, pure) networks of similar cost that the paper sets side by side (Figs 21-24)."""
    return [(name, entry.paper_pair) for name, entry in catalog.CATALOG.items() if entry.paper_pair]


def residual_vs_pure(contenders: list[Contender], metric: str, threshold: float) -> list[str]:
    """Each group of a residual network against each group of its pure pair (Figs 21-24)."""
    with_data = [c for c in contenders if c.has_data]
    label = error_level(threshold, metric)
    return [
        pair_sentence(residual, pure, label)
        for residual_model, pure_model in paper_pairs()
        for residual in with_data
        if residual.model == residual_model
        for pure in with_data
        if pure.model == pure_model
    ]


def pair_sentence(residual: Contender, pure: Contender, label: str) -> str:
    """Which of the pair reached `label` first, over the mean epoch of each group's seeds."""
    counts = counts_of([(c.name, c.count, c.unit) for c in (residual, pure)])
    residual_epoch, pure_epoch = residual.reached_epoch, pure.reached_epoch
    if residual_epoch is None and pure_epoch is None:
        return f"Neither {residual.name} nor {pure.name} reached {label} ({counts})."
    if residual_epoch is None:
        return one_of_pair_reached(pure, residual, label)
    if pure_epoch is None:
        return one_of_pair_reached(residual, pure, label)
    if residual_epoch == pure_epoch:
        return (
            f"{residual.name} and {pure.name} (similar cost) reached {label} at the same epoch"
            f" ({format_epoch(residual_epoch)}; {counts})."
        )
    faster, slower = (residual, pure) if residual_epoch < pure_epoch else (pure, residual)
    early, late = sorted((residual_epoch, pure_epoch))
    return (
        f"{faster.name} converged faster than {slower.name} (similar cost): {label} reached"
        f" {plural_epochs(late - early)} earlier"
        f" (epoch {format_epoch(early)} vs {format_epoch(late)}; {counts}):"
        f" {verdict(faster.reached, slower.reached, 'faster', unit_of_both(faster, slower))}."
    )


def one_of_pair_reached(done: Contender, other: Contender, label: str) -> str:
    """One network of a pair reached `label`; the other either still may or never did."""
    running = ", still running" if other.status == "running" else ""
    outcome = "has not yet" if running else "never did"
    return (
        f"{done.name} reached {label} ({epoch_and_count(done)}); {other.name} {outcome}"
        f" ({counted(other.count, other.unit)}{running})."
    )


def lowest_final(contenders: list[Contender], metric: str) -> str | None:
    finished = [c for c in contenders if c.status == "finished" and c.final is not None]
    pool = sorted(
        finished or [c for c in contenders if c.final is not None],
        key=lambda c: c.final or 0.0,
    )
    if not pool:
        return None
    best = pool[0]
    sentence = (
        f"Lowest final {METRIC_LABEL[metric]} error: {best.name}"
        f" ({best.final:.1f}%, {over(best.count, best.unit)})"
    )
    if len(pool) > 1:
        second = pool[1]
        gap = (second.final or 0.0) - (best.final or 0.0)
        if gap == 0:
            sentence += f", level with {second.name} ({over(second.count, second.unit)})"
        else:
            unit = unit_of_both(best, second)
            sentence += (
                f", {gap:.1f} points below {second.name} ({second.final:.1f}%,"
                f" {over(second.count, second.unit)}):"
                f" {verdict(best.finals, second.finals, 'lower', unit)}"
            )
    note = "" if finished else " (no run has finished yet)"
    return f"{sentence}{note}."


def single_run(result: CompareResult) -> list[str]:
    run = result.runs[0]
    finals = ", ".join(
        f"final {METRIC_LABEL[m]} error {run.final[m]:.1f}%"
        for m in result.metrics
        if run.final[m] is not None
    )
    detail = f": {finals}" if finals else ""
    return [f"Only one run ({run.run_id}){detail}; there is nothing to compare."]


def write_statement(result: CompareResult) -> list[str]:
    if len(result.runs) == 1:
        return single_run(result) + death_sentences(result.seed_groups)
    sentences = []
    for metric in result.metrics:
        contenders = contenders_of(result, metric)
        if len([c for c in contenders if c.has_data]) < 2:
            sentences.append(
                f"Fewer than two models (or settings) have {METRIC_LABEL[metric]} errors;"
                " there is nothing to compare."
            )
            continue
        threshold = result.thresholds[metric]
        if threshold is not None:
            sentences.append(who_got_there_first(contenders, metric, threshold))
            sentences.extend(residual_vs_pure(contenders, metric, threshold))
        lowest = lowest_final(contenders, metric)
        if lowest:
            sentences.append(lowest)
    return sentences + death_sentences(result.seed_groups)
