"""The training step of `experiment=paper` dispatches at most 1.2 times the operations of the
plain step the bench times (benchmarks/step_dispatches.py): on a GPU every operation is a
kernel launch from one host thread, and a recipe with three times the plain step's operations
(a DDP wrapper around one process, one operation per tensor for the moving average) ran at
half its rate. Gradient clipping (a `.to` per gradient in torch's) and the colour distortion
(per group of images) were most of what was left."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "step_dispatches.py"


@pytest.mark.slow
def test_the_paper_recipe_dispatches_at_most_1_2_times_the_plain_step(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("step_dispatches", SCRIPT)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    args = script.parse_args([])
    jpegs = script.jpeg_folder(tmp_path / "jpegs", args.batch)
    plain = script.plain_step(args)["ops"]
    recipe = script.recipe_step(args, jpegs, [])["ops"]
    environment = dict(os.environ)
    ddp_on_one = script.recipe_step(args, jpegs, [script.DDP_ON_ONE])["ops"]
    # Nothing of that DDP run is left for a later one to collide with (its port).
    assert dict(os.environ) == environment and not torch.distributed.is_initialized()
    assert plain > 1000  # the network's forward and backward were counted
    assert recipe <= 1.2 * plain, (recipe, plain)
    assert ddp_on_one > recipe + 1000  # what the single-device strategy saves
