"""`inception eval`: single-crop, 10-crop and 144-crop evaluation of runs and published
weights, alone or as an ensemble (the paper's Tables 2 and 5).

For each batch of images: the crops of each member's own preprocessing, normalised; each
member's softmax probabilities averaged over the crops; the ensemble's probabilities are the
mean of its members' (GoogLeNet section 7; max-pooling over crops was worse). The protocols and
the crop order are documented in inception_cli/data/crops.py and docs/eval.md;
inception_cli/evaluation holds the pieces (session.py: one process's part).

This module imports no torch at the top: the output file is chosen and created first, within a
second of starting, and only then are torch, the networks and the images loaded.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from inception_cli.evaluation.member_args import (
    check_run_dir,
    configured_runs_root,
    latest_finished_run,
    parse_member_args,
)
from inception_cli.evaluation.output import default_result_path, reserved_output

if TYPE_CHECKING:
    from inception_cli.evaluation.loop import evaluate_members
    from inception_cli.evaluation.members import Member, Preprocessing
    from inception_cli.evaluation.scores import Scores
    from inception_cli.evaluation.session import EvalRequest

__all__ = [
    "EvalRequest",
    "Member",
    "Preprocessing",
    "Scores",
    "evaluate_members",
    "latest_finished_run",
    "run_eval",
]

INTERRUPTED = 130  # the shell's status for Ctrl-C
# Re-exported names, imported when first asked for (they bring torch).
_LAZY = {
    "EvalRequest": "inception_cli.evaluation.session",
    "Member": "inception_cli.evaluation.members",
    "Preprocessing": "inception_cli.evaluation.members",
    "Scores": "inception_cli.evaluation.scores",
    "evaluate_members": "inception_cli.evaluation.loop",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _evaluate_on_processes(request: EvalRequest) -> dict[str, Any]:
    """`--devices N`: check everything here, where an error reads as one line, then start N
    processes that share the images; the first one writes the result where this one says."""
    from inception_cli.evaluation import distributed
    from inception_cli.evaluation.session import prepare

    evaluation = prepare(request, distributed.World(), quiet=True)  # the processes will say it
    del evaluation  # the processes load their own networks
    distributed.run_processes(_process_main, request, request.devices)
    assert request.output is not None  # reserved by run_eval
    return dict(json.loads(request.output.read_text()))


def _process_main(request: EvalRequest) -> None:
    """Entry point of a process that `--devices N` started."""
    from inception_cli.evaluation import distributed
    from inception_cli.evaluation.session import evaluate_in_process

    evaluate_in_process(request, distributed.world_from_env())


def _default_output(args: tuple[str, ...], crops: int) -> Path:
    """Where the result goes without --output; the run directories named are checked first,
    so that no eval/ folder is made in a folder that is not a run."""
    specs = parse_member_args(args) if args else [latest_finished_run()]
    run_dirs = [spec for spec in specs if isinstance(spec, Path)]
    for run_dir in run_dirs:
        check_run_dir(run_dir)
    return default_result_path(specs, crops, None if run_dirs else configured_runs_root())


def _launched_rank() -> int:
    """This process's rank under a launcher (0 without one)."""
    world_size = os.environ.get("WORLD_SIZE", "1")
    return int(os.environ.get("RANK", "0")) if world_size.isdigit() and int(world_size) > 1 else 0


def _evaluate(request: EvalRequest) -> dict[str, Any]:
    from inception_cli.evaluation import distributed
    from inception_cli.evaluation.session import evaluate_in_process

    request.check()  # before any network is loaded or image read
    world = distributed.world_from_env()
    if world.size == 1 and request.devices > 1:
        return _evaluate_on_processes(request)
    return evaluate_in_process(request, world) or {}


def run_eval(args: list[str], **options: Any) -> dict[str, Any]:
    """Evaluate runs or published weights (several = an ensemble); print and save the result.

    `options` are the fields of EvalRequest (crops, data, split, ..., precision, devices).
    Under a launcher (RANK/WORLD_SIZE set) this is one of its processes; the result is returned
    by the first, the others return an empty dict."""
    try:
        if _launched_rank() != 0:  # under a launcher, the first process writes the result
            return _evaluate(_request(args, options))
        # The output file first: one that cannot be written fails now, not after the work.
        default = _default_output(tuple(args), int(options.get("crops", 1)))
        with reserved_output(options.get("output"), default) as output:
            return _evaluate(_request(args, options | dict(output=output.path), reserved=True))
    except KeyboardInterrupt:
        Console(stderr=True).print(
            "interrupted; the images evaluated so far are kept in the run's eval/partial/: "
            "run the same command to continue"
        )
        sys.exit(INTERRUPTED)


def _request(args: list[str], options: dict[str, Any], *, reserved: bool = False) -> EvalRequest:
    from inception_cli.evaluation.session import EvalRequest

    return EvalRequest(tuple(args), **options, output_reserved=reserved)
