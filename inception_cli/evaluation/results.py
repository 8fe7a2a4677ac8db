"""What an evaluation leaves: the JSON record (protocol, data, errors, throughput), the file it
goes to (never overwriting one), and the table printed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from inception_cli.data.crops import multi_crop_scales, single_crop_scale
from inception_cli.evaluation.data import EvalData
from inception_cli.evaluation.member_args import configured_runs_root
from inception_cli.evaluation.members import Member
from inception_cli.evaluation.scores import Errors, Scores
from inception_cli.evaluation.settings import RunSettings
from inception_cli.evaluation.single_crop_note import multi_crop_note
from inception_cli.rundir import layout

PROTOCOLS = {
    1: "centre crop of the image resized to input_size / crop_fraction (shorter side)",
    10: "4 corners + centre at the single-crop scale, and their mirrors (GoogLeNet 10-crop)",
    144: "4 scales x 3 squares x (4 corners + centre + whole square) x 2 mirrors (GoogLeNet)",
}


def evaluation_home(members: Sequence[Member]) -> Path:
    """eval/ of the first run, else eval/ beside the runs (published weights alone)."""
    run_dir = next((member.run_dir for member in members if member.run_dir is not None), None)
    return layout.eval_dir(run_dir if run_dir is not None else configured_runs_root())


def result_path(members: Sequence[Member], crops: int, output: Path | None) -> Path:
    """--output, else the evaluation's eval/ folder; a free name there."""
    if output is not None:
        return layout.unique_path(output)
    name = f"{crops}crop" + ("_ensemble" if len(members) > 1 else "")
    if any(member.run_dir is not None for member in members):
        return layout.unique_path(evaluation_home(members) / f"{name}.json")
    tag = members[0].weights.removeprefix("timm:")
    return layout.unique_path(evaluation_home(members) / f"{name}_{tag}.json")


def protocol_record(crops: int, members: Sequence[Member]) -> dict[str, Any]:
    sizes = sorted({member.preprocessing.input_size for member in members})
    record: dict[str, Any] = {"crops": crops, "description": PROTOCOLS[crops]}
    if crops == 144:
        record["shorter_sides"] = {str(size): multi_crop_scales(size) for size in sizes}
    else:
        record["shorter_sides"] = {
            str(m.preprocessing.input_size): single_crop_scale(
                m.preprocessing.input_size, m.preprocessing.crop_fraction
            )
            for m in members
        }
    record["averaging"] = "softmax probabilities averaged over crops, then over members"
    return record


def _single_crop(errors: Errors | None) -> dict[str, Any]:
    """The errors under the single centre crop, beside a 10- or 144-crop result."""
    if errors is None:
        return {}
    return {"single_crop": {"top1_error": errors[0], "top5_error": errors[1]}}


def _real(errors: Errors | None) -> dict[str, Any]:
    """The errors under the ImageNet-ReaL labels, beside the original ones."""
    if errors is None:
        return {}
    return {"real_top1_error": errors[0], "real_top5_error": errors[1]}


def _real_errors(scores: Scores, members: int) -> list[Errors | None]:
    """Each member's ReaL errors, then the ensemble's (None without --real-labels)."""
    if scores.real is None:
        return [None] * (members + 1)
    return [*scores.real.member_errors, scores.real.ensemble_errors]


def _real_labels_record(scores: Scores) -> dict[str, Any]:
    """Which ReaL labels, matched to the images how, and how many images had one."""
    real = scores.real
    if real is None:
        return {}
    described = {"file": str(real.file), "matched_by": real.matched_by, "images": real.images}
    return {"real_labels": described}


def _member_record(
    member: Member, errors: Errors, single: Errors | None, real: Errors | None
) -> dict[str, Any]:
    return {
        "name": member.name,
        "model": member.model_cfg,
        "run_dir": str(member.run_dir) if member.run_dir else None,
        "checkpoint": str(member.checkpoint) if member.checkpoint else None,
        "weights": member.weights,
        "preprocessing": member.preprocessing.as_dict(),
        "top1_error": errors[0],
        "top5_error": errors[1],
        **_real(real),
        **_single_crop(single),
    }


def throughput_record(scores: Scores, settings: RunSettings) -> dict[str, Any]:
    """How fast this command went; the only part that differs between two evaluations of the
    same images (and between an interrupted one, continued, and one that was not)."""
    computed = scores.images if scores.images_computed is None else scores.images_computed
    return {
        "device": scores.device,
        "processes": scores.processes,
        "batch_size": settings.inputs_per_pass,
        "images_per_s": scores.images_per_s,
        "wall_time_s": scores.wall_time_s,
        "forward_time_s": scores.forward_time_s,
        "share_outside_forward": scores.share_outside_forward,
        "compiled": settings.compile,
        "compile_time_s": scores.compile_time_s,
        "images_computed": computed,
        "images_from_partial_results": scores.images + scores.corrupt - computed,
    }


def build_record(
    members: Sequence[Member],
    eval_data: EvalData,
    scores: Scores,
    crops: int,
    ema: bool,
    settings: RunSettings,
) -> dict[str, Any]:
    top1, top5 = scores.ensemble_errors
    singles: Sequence[Errors | None] = scores.member_single_errors or [None] * len(members)
    reals = _real_errors(scores, len(members))
    return {
        "top1_error": top1,
        "top5_error": top5,
        **_real(reals[-1]),
        **_single_crop(scores.ensemble_single_errors),
        "ensemble": len(members) > 1,
        "protocol": protocol_record(crops, members),
        "data": eval_data.description,
        "images": {
            "evaluated": scores.images,
            "excluded_blacklist": eval_data.excluded_blacklist,
            "corrupt": scores.corrupt,
            "labels_sha256": scores.labels_sha256,
        },
        **_real_labels_record(scores),
        "ema": ema,
        **settings.as_dict(),
        "members": [
            _member_record(member, errors, single, real)
            for member, errors, single, real in zip(
                members, scores.member_errors, singles, reals[:-1], strict=True
            )
        ],
        "throughput": throughput_record(scores, settings),
        "created_at": layout.now_iso(),
    }


Row = tuple[str, Errors, Errors | None, Errors | None]  # name, errors, single crop, ReaL


def _rows(members: Sequence[Member], scores: Scores) -> list[Row]:
    singles: Sequence[Errors | None] = scores.member_single_errors or [None] * len(members)
    reals = _real_errors(scores, len(members))
    rows = [
        (escape(f"{m.name} ({m.weights} weights)"), errors, single, real)
        for m, errors, single, real in zip(
            members, scores.member_errors, singles, reals[:-1], strict=True
        )
    ]
    if len(members) > 1:
        ensemble = scores.ensemble_errors, scores.ensemble_single_errors, reals[-1]
        rows.append((f"ensemble of {len(members)}", *ensemble))
    return rows


def results_table(members: Sequence[Member], scores: Scores, crops: int, title: str) -> Table:
    table = Table(title=title)
    for column in ("model(s)", "crops", "images"):
        table.add_column(column)
    table.add_column("top-1 error %", justify="right")
    table.add_column("top-5 error %", justify="right")
    if scores.real is not None:
        table.add_column("ReaL top-1 error %", justify="right")
    with_single = scores.member_single_errors is not None
    if with_single:
        table.add_column("1-crop top-1 %", justify="right")
    for name, (top1, top5), single, real in _rows(members, scores):
        cells = [name, str(crops), str(scores.images), f"{top1:.2f}", f"{top5:.2f}"]
        if real is not None:
            cells.append(f"{real[0]:.2f}")
        if with_single:
            cells.append(f"{single[0]:.2f}" if single else "")
        table.add_row(*cells)
    return table


def print_results(
    console: Console,
    members: Sequence[Member],
    scores: Scores,
    crops: int,
    eval_data: EvalData,
    settings: RunSettings,
) -> None:
    title = (
        f"{crops}-crop evaluation on {eval_data.description['name']} "
        f"({eval_data.description['split']})"
    )
    console.print(results_table(members, scores, crops, title))
    note = multi_crop_note(crops, members, scores)
    if note:
        console.print(escape(note), soft_wrap=True, highlight=False)
    left_out = []
    if eval_data.excluded_blacklist:
        left_out.append(f"{eval_data.excluded_blacklist} blacklisted")
    if scores.corrupt:
        left_out.append(f"{scores.corrupt} unreadable")
    if left_out:
        console.print(f"left out: {', '.join(left_out)}")
    if scores.real is not None:
        console.print(
            f"ReaL: {scores.real.images} of {scores.images} images have a label in "
            f"{escape(str(scores.real.file))} (matched by {scores.real.matched_by}); the ReaL "
            "errors leave out the others",
            highlight=False,
        )
    memory_layout = "channels_last" if settings.channels_last else "NCHW"
    processes = f" x {scores.processes} processes" if scores.processes > 1 else ""
    compiled = (
        f", compiled: {scores.compile_time_s:.1f} s of first passes included"
        if settings.compile
        else ""
    )
    console.print(
        f"{scores.images_per_s:.1f} images/s on {scores.device}{processes} "
        f"({settings.precision}, {memory_layout}{compiled}); "
        f"{100 * scores.share_outside_forward:.0f}% of the time "
        "outside the forward passes (decoding, cropping, transfers)"
    )
