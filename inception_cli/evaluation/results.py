"""What an evaluation leaves: the JSON record (protocol, data, errors, throughput), the file it
goes to (never overwriting one), and the table printed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from inception_cli import runs
from inception_cli.data.crops import multi_crop_scales, single_crop_scale
from inception_cli.evaluation.data import EvalData
from inception_cli.evaluation.members import Member, configured_runs_root
from inception_cli.evaluation.scoring import Scores

PROTOCOLS = {
    1: "centre crop of the image resized to input_size / crop_fraction (shorter side)",
    10: "4 corners + centre at the single-crop scale, and their mirrors (GoogLeNet 10-crop)",
    144: "4 scales x 3 squares x (4 corners + centre + whole square) x 2 mirrors (GoogLeNet)",
}


def result_path(members: Sequence[Member], crops: int, output: Path | None) -> Path:
    """--output, else eval/ of the first run, else eval/ beside the runs; a free name there."""
    if output is not None:
        return runs.unique_path(output)
    name = f"{crops}crop" + ("_ensemble" if len(members) > 1 else "")
    run_dir = next((member.run_dir for member in members if member.run_dir is not None), None)
    if run_dir is not None:
        return runs.unique_path(runs.eval_dir(run_dir) / f"{name}.json")
    tag = members[0].weights.removeprefix("timm:")
    return runs.unique_path(runs.eval_dir(configured_runs_root()) / f"{name}_{tag}.json")


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


def build_record(
    members: Sequence[Member], eval_data: EvalData, scores: Scores, crops: int, ema: bool
) -> dict[str, Any]:
    top1, top5 = scores.ensemble_errors
    return {
        "top1_error": top1,
        "top5_error": top5,
        "ensemble": len(members) > 1,
        "protocol": protocol_record(crops, members),
        "data": eval_data.description,
        "images": {
            "evaluated": scores.images,
            "excluded_blacklist": eval_data.excluded_blacklist,
            "corrupt": scores.corrupt,
            "labels_sha256": scores.labels_sha256,
        },
        "ema": ema,
        "members": [
            {
                "name": member.name,
                "model": member.model_cfg,
                "run_dir": str(member.run_dir) if member.run_dir else None,
                "checkpoint": str(member.checkpoint) if member.checkpoint else None,
                "weights": member.weights,
                "preprocessing": member.preprocessing.as_dict(),
                "top1_error": errors[0],
                "top5_error": errors[1],
            }
            for member, errors in zip(members, scores.member_errors, strict=True)
        ],
        "throughput": {
            "device": scores.device,
            "images_per_s": scores.images_per_s,
            "wall_time_s": scores.wall_time_s,
            "forward_time_s": scores.forward_time_s,
            "share_outside_forward": scores.share_outside_forward,
        },
        "created_at": runs.now_iso(),
    }


def print_results(
    console: Console, members: Sequence[Member], scores: Scores, crops: int, eval_data: EvalData
) -> None:
    table = Table(
        title=f"{crops}-crop evaluation on {eval_data.description['name']} "
        f"({eval_data.description['split']})"
    )
    for column in ("model(s)", "crops", "images"):
        table.add_column(column)
    table.add_column("top-1 error %", justify="right")
    table.add_column("top-5 error %", justify="right")
    rows = [
        (escape(f"{m.name} ({m.weights} weights)"), e)
        for m, e in zip(members, scores.member_errors, strict=True)
    ]
    if len(members) > 1:
        rows.append((f"ensemble of {len(members)}", scores.ensemble_errors))
    for name, (top1, top5) in rows:
        table.add_row(name, str(crops), str(scores.images), f"{top1:.2f}", f"{top5:.2f}")
    console.print(table)
    left_out = []
    if eval_data.excluded_blacklist:
        left_out.append(f"{eval_data.excluded_blacklist} blacklisted")
    if scores.corrupt:
        left_out.append(f"{scores.corrupt} unreadable")
    if left_out:
        console.print(f"left out: {', '.join(left_out)}")
    console.print(
        f"{scores.images_per_s:.1f} images/s on {scores.device}; "
        f"{100 * scores.share_outside_forward:.0f}% of the time outside the forward passes "
        "(decoding, cropping, transfers)"
    )
