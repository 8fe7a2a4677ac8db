"""One process's part of `inception eval`: load the members and the data, take up the partial
results of an earlier attempt, score this process's share of the images that remain, and (on
the first process) gather every share, check each image came exactly once, and write the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from inception_cli.data.crops import check_crop_count
from inception_cli.evaluation import distributed
from inception_cli.evaluation.batches import inputs_per_image
from inception_cli.evaluation.data import (
    EvalData,
    check_blacklist,
    check_compatible,
    check_data_option,
    resolve_data,
)
from inception_cli.evaluation.distributed import World
from inception_cli.evaluation.loop import loader_for, score_images, sigterm_as_exit
from inception_cli.evaluation.members import Member, check_same_classes, resolve_members
from inception_cli.evaluation.output import predictions_path
from inception_cli.evaluation.partial import PartialResults, key_parts
from inception_cli.evaluation.predictions import TOP_K, Predictions, concatenate
from inception_cli.evaluation.progress import EvalProgress
from inception_cli.evaluation.real_labels import RealLabels, load_real_labels, read_real_labels
from inception_cli.evaluation.results import (
    build_record,
    evaluation_home,
    print_results,
    result_path,
)
from inception_cli.evaluation.scores import scores_from
from inception_cli.evaluation.scoring import Scorer, Timing
from inception_cli.evaluation.settings import (
    RunSettings,
    check_positive,
    check_precision,
    resolve_settings,
)
from inception_cli.rundir import layout
from inception_cli.rundir.durable import atomic_write_text


@dataclass(frozen=True)
class EvalRequest:
    """The options of `inception eval`, as given (sent as they are to every process)."""

    args: tuple[str, ...]
    crops: int = 1
    data: str | None = None
    split: str = "val"
    exclude_blacklist: Path | None = None
    batch_size: int | None = None
    ema: bool = True
    output: Path | None = None
    limit: int | None = None
    precision: str = "auto"  # docs/eval.md: its agreement with float32, measured
    channels_last: bool = True
    compile: bool = False  # torch.compile the folded networks
    devices: int = 1
    output_reserved: bool = False  # `output` is this evaluation's file, created empty
    real_labels: Path | None = None  # ImageNet-ReaL real.json, scored beside the labels

    def check(self) -> None:
        """The mistakes that need no network loaded and no image read."""
        check_crop_count(self.crops)
        check_positive("--batch-size", self.batch_size)
        check_positive("--limit", self.limit)
        check_precision(self.precision)
        distributed.check_devices(self.devices)
        check_data_option(self.data)
        if self.exclude_blacklist is not None:
            check_blacklist(self.exclude_blacklist)
        if self.real_labels is not None:
            read_real_labels(self.real_labels)


@dataclass
class Evaluation:
    """What one process evaluates, and with what."""

    request: EvalRequest
    world: World
    console: Console
    members: list[Member]
    eval_data: EvalData
    settings: RunSettings
    real_labels: RealLabels | None = None

    @property
    def heads(self) -> int:
        return len(self.members) + 1

    def partial_results(self) -> PartialResults:
        parts = key_parts(
            self.members, self.eval_data, self.request.crops, self.request.limit, self.settings
        )
        return PartialResults(evaluation_home(self.members), parts, self.world.rank)


def prepare(request: EvalRequest, world: World, *, quiet: bool = False) -> Evaluation:
    """Members, data and settings; every InputError an evaluation can meet comes from here."""
    request.check()
    console = Console(quiet=quiet or not world.is_main)
    members = resolve_members(
        list(request.args), ema=request.ema, data=request.data, console=console
    )
    check_same_classes(members)
    eval_data = resolve_data(
        members,
        request.data,
        request.split,
        request.exclude_blacklist,
        request.limit,
        processes=world.local_size,
    )
    check_compatible(members, eval_data)
    real_labels = None
    if request.real_labels is not None:
        real_labels = load_real_labels(
            request.real_labels, eval_data.dataset, members[0].num_classes
        )
    settings = resolve_settings(
        distributed.device_for(world),
        request.precision,
        request.channels_last,
        request.batch_size,
        compile=request.compile,
    )
    return Evaluation(request, world, console, members, eval_data, settings, real_labels)


def starting_line(evaluation: Evaluation, images: int) -> str:
    settings, world = evaluation.settings, evaluation.world
    crops = evaluation.request.crops
    per_pass = settings.images_per_pass(inputs_per_image(crops))
    where = (
        f"{settings.device.type} x {world.size} processes"
        if world.size > 1
        else str(settings.device)
    )
    memory_layout = "channels_last" if settings.channels_last else "NCHW"
    compiled = ", compiled" if settings.compile else ""
    return (
        f"evaluating {images} images, {crops} crop{'s' if crops > 1 else ''} each, on {where} "
        f"({settings.precision}, {memory_layout}{compiled}, "
        f"{per_pass} image{'s' if per_pass > 1 else ''} per pass)"
    )


def _score_share(
    evaluation: Evaluation, partial: PartialResults, earlier: Predictions
) -> tuple[Predictions, Timing]:
    """This process's share of the images not in `earlier`, scored."""
    world, total = evaluation.world, len(evaluation.eval_data.dataset)  # type: ignore[arg-type]
    done = earlier.done
    if done:
        evaluation.console.print(
            f"continuing: {len(done)} of {total} images were evaluated before "
            f"(partial results in {escape(str(partial.folder))})"
        )
    remaining = [position for position in range(total) if position not in done]
    scorer = Scorer(evaluation.members, evaluation.request.crops, evaluation.settings)
    evaluation.console.print(starting_line(evaluation, len(remaining)), highlight=False)
    loader = loader_for(
        scorer,
        evaluation.eval_data.dataset,
        remaining[world.rank :: world.size],
        evaluation.eval_data.num_workers,
    )
    progress = EvalProgress(evaluation.console, total, done_before=len(done), scale=world.size)
    with progress, sigterm_as_exit():
        computed = score_images(scorer, loader, progress=progress, partial=partial)
    return computed, scorer.timing


def evaluate_in_process(request: EvalRequest, world: World) -> dict[str, Any] | None:
    """This process's part; the result record on the first process, None on the others."""
    distributed.share_cpu_threads(world)
    evaluation = prepare(request, world)
    partial = evaluation.partial_results()
    distributed.join(world)
    try:
        earlier = partial.load(evaluation.heads, min(TOP_K, evaluation.members[0].num_classes))
        # No process saves before all have read, so that all share out the same images.
        distributed.barrier(world)
        shares = distributed.gather_to_main(world, _score_share(evaluation, partial, earlier))
    finally:
        distributed.leave(world)
    if not world.is_main:
        return None
    return _write_result(evaluation, partial, earlier, shares)


def _combine(
    evaluation: Evaluation, earlier: Predictions, shares: list[tuple[Predictions, Timing]]
) -> Predictions:
    """Every image of the evaluation exactly once: the earlier attempts' and each share."""
    parts = [earlier, *(predictions for predictions, _ in shares)]
    combined = concatenate(parts, evaluation.heads, earlier.multi.shape[2])
    positions = [*combined.positions.tolist(), *combined.unreadable.tolist()]
    total = len(evaluation.eval_data.dataset)  # type: ignore[arg-type]
    if sorted(positions) != list(range(total)):
        raise RuntimeError(
            f"the processes returned {len(positions)} results for {total} images "
            f"({len(set(positions))} distinct); the evaluation is not written"
        )
    return combined.in_order()


def _write_result(
    evaluation: Evaluation,
    partial: PartialResults,
    earlier: Predictions,
    shares: list[tuple[Predictions, Timing]],
) -> dict[str, Any]:
    request, console = evaluation.request, evaluation.console
    predictions = _combine(evaluation, earlier, shares)
    device = str(evaluation.settings.device)
    timings = [timing for _, timing in shares]
    scores = scores_from(predictions, timings, device, evaluation.real_labels)
    EvalProgress(console, len(predictions) + len(predictions.unreadable)).finish(
        scores.images_computed or 0, scores.wall_time_s
    )
    print_results(
        console,
        evaluation.members,
        scores,
        request.crops,
        evaluation.eval_data,
        evaluation.settings,
    )
    record = build_record(
        evaluation.members,
        evaluation.eval_data,
        scores,
        request.crops,
        request.ema,
        evaluation.settings,
    )
    if request.output_reserved and request.output is not None:
        path = request.output  # created empty for this evaluation before it started
        atomic_write_text(path, layout.dumps(record))
    else:
        path = result_path(evaluation.members, request.crops, request.output)
        layout.write_new_json(path, record)
    predictions.save(predictions_path(path))
    partial.remove()
    console.print(f"wrote {escape(str(path))}")
    return record
