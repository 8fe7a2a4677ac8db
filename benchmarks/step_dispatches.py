"""Operations dispatched per training step: the plain step `inception bench --mode train` times,
against the step of `inception train experiment=paper` with each part of the recipe taken away.

    python benchmarks/step_dispatches.py                      # CPU, tiny v4: about 2 minutes
    python benchmarks/step_dispatches.py --only-recipe --breakdown 40   # what the recipe adds
    python benchmarks/step_dispatches.py --device cuda --width 1 --size 299 --batch 128 \
        --workers 15 [--jpegs DIR]                           # as benchmarks/gpu_feed.sh runs it

On a GPU every operation is at least one kernel launch from the training process's one thread,
so a step that dispatches several times the operations of the plain step can be bound by that
thread rather than by the device, however fast the loader is. The figures are counts, not
timings: they are the same on any machine for the same versions of torch and Lightning, and
each row's difference from the row above says what one part of the recipe costs in launches.
With `--device cuda` the device's kernels per step and both clocks are printed as well. The
breakdown at the end lists the operations, by name, whose count per step the recipe raises most.

Rows:
- plain step: forward, cross-entropy, backward, SGD with momentum (foreach), as the bench;
- recipe: `experiment=paper` on one device, as `inception train` builds it, from JPEGs with
  TF-slim's Inception preprocessing (its colour distortion runs on the device);
- each "without" row takes one part away from the recipe;
- "DDP around one process": the recipe as Lightning runs `strategy=ddp` on one device (what
  the `8gpu` preset with `trainer.devices=1` did before training/strategies.py).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from torch.profiler import ProfilerActivity, profile

PROFILED_STEPS = 4
OP_PREFIX = "op:"  # per-operation counts in a row, beside its totals
WARMUP_STEPS = 6
DDP_ON_ONE = "ddp-on-one-process"  # not an override: set on the composed config
VARIANTS: dict[str, list[str]] = {
    "recipe (experiment=paper, 1 device)": [],
    "  without EMA": ["ema.enabled=false"],
    "  without colour distortion": ["data.augment=true"],
    "  without gradient clipping": ["trainer.gradient_clip_val=null"],
    "  DDP around one process": [DDP_ON_ONE],
}


class StepProfile(pl.Callback):
    """Profiles steps WARMUP_STEPS .. WARMUP_STEPS + PROFILED_STEPS of the run."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.profiler: Any = None
        self.started = 0.0
        self.result: dict[str, float] = {}

    def on_train_batch_start(self, trainer: pl.Trainer, *args: Any) -> None:
        if trainer.global_step == WARMUP_STEPS:
            self.profiler, self.started = start_profile(self.device)

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if trainer.global_step == WARMUP_STEPS + PROFILED_STEPS and self.profiler is not None:
            self.result = stop_profile(self.profiler, self.started, self.device)
            self.profiler = None


def start_profile(device: str) -> tuple[Any, float]:
    activities = [ProfilerActivity.CPU]
    if device == "cuda":
        activities.append(ProfilerActivity.CUDA)
        torch.cuda.synchronize()
    profiler = profile(activities=activities)
    profiler.__enter__()
    return profiler, time.perf_counter()


def stop_profile(profiler: Any, started: float, device: str) -> dict[str, float]:
    host_s = time.perf_counter() - started  # the host has launched the steps' work
    if device == "cuda":
        torch.cuda.synchronize()
    wall_s = time.perf_counter() - started
    profiler.__exit__(None, None, None)
    events = profiler.events()
    top_level = Counter(
        event.name
        for event in events
        if event.name.startswith("aten::")
        and (event.cpu_parent is None or not event.cpu_parent.name.startswith("aten::"))
    )
    kernels = sum(1 for event in events if event.device_type.name == "CUDA")
    per_step = {name: count / PROFILED_STEPS for name, count in top_level.items()}
    return {
        **{f"{OP_PREFIX}{name}": count for name, count in per_step.items()},
        "ops": sum(per_step.values()),
        "kernels": kernels / PROFILED_STEPS,
        "host_ms": 1e3 * host_s / PROFILED_STEPS,
        "wall_ms": 1e3 * wall_s / PROFILED_STEPS,
    }


def plain_step(args: argparse.Namespace) -> dict[str, float]:
    from inception_cli.models import create_model

    device = torch.device(args.device)
    model = create_model(name=args.model, num_classes=4, width=args.width).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, foreach=True)
    images = torch.randn(args.batch, 3, args.size, args.size, device=device)
    labels = torch.zeros(args.batch, dtype=torch.long, device=device)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, torch.bfloat16, enabled=args.device == "cuda"):
            loss = torch.nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()

    for _ in range(WARMUP_STEPS):
        step()
    profiler, started = start_profile(args.device)
    for _ in range(PROFILED_STEPS):
        step()
    return stop_profile(profiler, started, args.device)


def recipe_step(args: argparse.Namespace, jpegs: Path, extra: list[str]) -> dict[str, float]:
    from omegaconf import OmegaConf, open_dict

    from inception_cli.config.compose import compose_train_config
    from inception_cli.training import builders
    from inception_cli.training.loop import train

    work = Path(tempfile.mkdtemp())
    overrides = [
        "experiment=paper",
        f"model={args.model}",
        f"model.width={args.width}",
        f"data.root={jpegs}",
        "data.num_classes=4",
        f"data.input_size={args.size}",
        f"data.batch_size={args.batch}",
        f"data.num_workers={max(1, args.workers)}",  # the loader's work stays out of the count
        "trainer.devices=1",
        f"trainer.accelerator={'gpu' if args.device == 'cuda' else 'cpu'}",
        f"trainer.precision={'bf16-mixed' if args.device == 'cuda' else '32'}",
        f"trainer.max_steps={WARMUP_STEPS + PROFILED_STEPS + 1}",
        "logger=csv",
        "callbacks.progress_bar=none",
        f"paths.runs_dir={work / 'runs'}",
    ]
    cfg = compose_train_config([*overrides, *(e for e in extra if e != DDP_ON_ONE)])
    if DDP_ON_ONE in extra:  # given by _target_, the strategy is used as it is
        with open_dict(cfg):
            cfg.trainer.strategy = OmegaConf.create(
                {"_target_": "lightning.pytorch.strategies.DDPStrategy"}
            )
    profiled = StepProfile(args.device)
    build_callbacks = builders.build_callbacks
    builders.build_callbacks = lambda *a: [profiled, *build_callbacks(*a)]
    run_dir = work / "runs" / "profiled"
    run_dir.mkdir(parents=True)
    environment = dict(os.environ)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            train(cfg, run_dir)
    finally:
        builders.build_callbacks = build_callbacks
        # DDP leaves its process group listening on MASTER_PORT and the port in the
        # environment, where a later DDP run of this process or its children would collide.
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
        os.environ.clear()
        os.environ.update(environment)
    return profiled.result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--model", default="v4")
    parser.add_argument("--width", type=float, default=0.1)
    parser.add_argument("--size", type=int, default=75)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="loader workers of the recipe")
    parser.add_argument("--jpegs", type=Path, help="an image folder (train/, val/) to read")
    parser.add_argument(
        "--breakdown", type=int, default=12, help="operations the recipe adds most, listed"
    )
    parser.add_argument(
        "--only-recipe", action="store_true", help="the plain step and the whole recipe alone"
    )
    return parser.parse_args(argv)


def jpeg_folder(root: Path, batch: int) -> Path:
    """16 batches of 500x375 JPEGs in train/, four classes, and two of each class in val/."""
    from inception_cli.benchmarking.data import write_synthetic_jpegs

    write_synthetic_jpegs(root, 16 * batch)
    for folder in (root / "train").iterdir():
        (root / "val" / folder.name).mkdir(parents=True)
        for image in sorted(folder.iterdir())[:2]:
            (root / "val" / folder.name / image.name).hardlink_to(image)
    return root


def print_row(label: str, row: dict[str, float], cuda: bool) -> None:
    line = f"{label:40s} {row['ops']:7.0f}" + (f" {row['kernels']:8.0f}" if cuda else "")
    print(line + f" {row['host_ms']:8.1f} {row['wall_ms']:8.1f}", flush=True)


def main() -> None:
    args = parse_args()
    if args.device == "cpu":
        torch.set_num_threads(1)
    jpegs = args.jpegs or jpeg_folder(Path(tempfile.mkdtemp()), args.batch)

    print(
        f"{args.model} width {args.width}, {args.size} px, batch {args.batch}, {args.device}; "
        f"torch {torch.__version__}, lightning {pl.__version__}; mean of {PROFILED_STEPS} steps"
    )
    cuda = args.device == "cuda"
    header = f"{'step':40s} {'ops':>7s}" + (f" {'kernels':>8s}" if cuda else "")
    print(header + f" {'host ms':>8s} {'wall ms':>8s}")
    plain = plain_step(args)
    print_row("plain step (inception bench --mode train)", plain, cuda)
    recipe: dict[str, float] = {}
    for label, extra in list(VARIANTS.items())[: 1 if args.only_recipe else None]:
        row = recipe_step(args, jpegs, extra)
        recipe = recipe or row  # the first row: the whole recipe
        print_row(label, row, cuda)
    print(f"recipe / plain step, operations: {recipe['ops'] / plain['ops']:.2f}")
    print_breakdown(plain, recipe, args.breakdown)


def print_breakdown(plain: dict[str, float], recipe: dict[str, float], count: int) -> None:
    """The operations whose count per step the recipe raises most over the plain step."""
    names = {key for key in [*plain, *recipe] if key.startswith(OP_PREFIX)}
    added = {key: recipe.get(key, 0.0) - plain.get(key, 0.0) for key in names}
    listed = sorted(added.items(), key=lambda item: -abs(item[1]))[:count]
    if listed:
        print("operations per step, recipe minus plain step:")
    for key, difference in listed:
        print(f"  {key.removeprefix(OP_PREFIX):38s} {difference:+7.1f}")


if __name__ == "__main__":
    main()
