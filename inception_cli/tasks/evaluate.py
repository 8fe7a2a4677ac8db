"""`inception eval`: single-crop, 10-crop and 144-crop evaluation of runs and published
weights, alone or as an ensemble (the paper's Tables 2 and 5).

For each batch of images: the crops of each member's own preprocessing, normalised; each
member's softmax probabilities averaged over the crops; the ensemble's probabilities are the
mean of its members' (GoogLeNet section 7; max-pooling over crops was worse). The protocols and
the crop order are documented in inception_cli/data/crops.py and docs/eval.md;
inception_cli/evaluation holds the pieces.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.markup import escape

from inception_cli import runs
from inception_cli.data.crops import check_crop_count
from inception_cli.errors import InputError
from inception_cli.evaluation.data import check_compatible, resolve_data
from inception_cli.evaluation.members import (
    Member,
    Preprocessing,
    check_same_classes,
    latest_finished_run,
    resolve_members,
)
from inception_cli.evaluation.results import build_record, print_results, result_path
from inception_cli.evaluation.scoring import Scores, evaluate_members

__all__ = [
    "Member",
    "Preprocessing",
    "Scores",
    "evaluate_members",
    "latest_finished_run",
    "run_eval",
]


def run_eval(
    args: list[str],
    *,
    crops: int,
    data: str | None,
    split: str,
    exclude_blacklist: Path | None,
    batch_size: int,
    ema: bool,
    output: Path | None,
    limit: int | None,
) -> dict[str, Any]:
    """Evaluate runs or published weights (several = an ensemble); print and save the result."""
    check_crop_count(crops)  # before any network is loaded
    if batch_size < 1:
        raise InputError(f"--batch-size {batch_size} must be at least 1")
    if limit is not None and limit < 1:
        raise InputError(f"--limit {limit} must be at least 1")
    console = Console()
    members = resolve_members(args, ema=ema, data=data, console=console)
    check_same_classes(members)
    eval_data = resolve_data(members, data, split, exclude_blacklist, limit)
    check_compatible(members, eval_data)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    scores = evaluate_members(
        members,
        eval_data.dataset,
        crops=crops,
        batch_size=batch_size,
        num_workers=eval_data.num_workers,
        device=device,
        console=Console(stderr=True),
    )
    print_results(console, members, scores, crops, eval_data)
    record = build_record(members, eval_data, scores, crops, ema)
    path = result_path(members, crops, output)
    runs.write_new_json(path, record)
    console.print(f"wrote {escape(str(path))}")
    return record
