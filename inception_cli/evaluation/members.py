"""The networks of an evaluation: run directories and published weights, loaded into Members
with the preprocessing each was trained or published with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from torch import nn

from inception_cli.data.spec import as_dict
from inception_cli.errors import InputError
from inception_cli.evaluation.checkpoints import find_checkpoint, load_weights, saved_weights
from inception_cli.evaluation.member_args import (
    check_run_dir,
    latest_finished_run,
    parse_member_args,
)
from inception_cli.rundir import layout


@dataclass(frozen=True)
class Preprocessing:
    """How a member sees an image: crop geometry, then (x - mean) / std."""

    input_size: int
    crop_fraction: float
    interpolation: str
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @property
    def geometry(self) -> tuple[int, float, str]:
        return self.input_size, self.crop_fraction, self.interpolation

    def as_dict(self) -> dict[str, Any]:
        return {
            "input_size": self.input_size,
            "crop_fraction": self.crop_fraction,
            "interpolation": self.interpolation,
            "mean": list(self.mean),
            "std": list(self.std),
        }


@dataclass
class Member:
    """One network of an evaluation (an ensemble has several)."""

    name: str
    model: nn.Module
    preprocessing: Preprocessing
    num_classes: int
    in_chans: int = 3
    run_dir: Path | None = None
    checkpoint: Path | None = None
    weights: str = "model"  # "ema", "model" (a run's checkpoint) or "timm:<tag>"
    data_cfg: dict[str, Any] | None = None  # the data the run was trained on
    model_cfg: dict[str, Any] = field(default_factory=dict)


def _preprocessing_of_run(data_cfg: dict[str, Any], model: nn.Module) -> Preprocessing:
    in_chans = int(data_cfg.get("in_chans", 3))
    input_size: Any = data_cfg.get("input_size") or getattr(model, "default_input_size", 299)
    return Preprocessing(
        input_size=int(input_size),
        crop_fraction=float(data_cfg.get("crop_fraction", 0.875)),
        interpolation=str(data_cfg.get("interpolation", "bilinear")),
        mean=tuple(float(m) for m in data_cfg.get("mean", [0.5] * in_chans)),
        std=tuple(float(s) for s in data_cfg.get("std", [0.5] * in_chans)),
    )


def _read_run_config(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The `model` and `data` configs the run was trained with."""
    check_run_dir(run_dir)
    try:
        cfg = layout.load_config(run_dir)
        return as_dict(cfg.get("model")), as_dict(cfg.get("data"))
    except Exception as error:
        raise InputError(f"cannot read {layout.config_path(run_dir)}: {error}") from None


def _build_model(run_dir: Path, model_cfg: dict[str, Any]) -> tuple[nn.Module, dict[str, Any]]:
    """The untrained network of the run's `model` config, and the config it was built from:
    without initial weights, which the checkpoint replaces."""
    from inception_cli.models import create_model

    name = model_cfg.get("name")
    if not name:
        raise InputError(f"{layout.config_path(run_dir)} has no model.name")
    options = {key: value for key, value in model_cfg.items() if key not in ("name", "weights")}
    try:
        model = create_model(str(name), **options)
    except (TypeError, ValueError) as error:
        raise InputError(f"cannot build the model of {run_dir}: {error}") from None
    return model, {"name": name, **options}


def load_run_member(run_dir: Path, *, ema: bool, console: Console) -> Member:
    """The network of a run directory, from checkpoints/best.ckpt (else last.ckpt)."""
    model_cfg, data_cfg = _read_run_config(run_dir)
    checkpoint = find_checkpoint(run_dir)
    model, model_cfg = _build_model(run_dir, model_cfg)
    weights_name, weights = saved_weights(checkpoint, ema=ema, console=console)
    load_weights(model, weights, checkpoint, layout.config_path(run_dir))
    return Member(
        name=run_dir.name,
        model=model,
        preprocessing=_preprocessing_of_run(data_cfg, model),
        num_classes=int(getattr(model, "num_classes", model_cfg.get("num_classes", 1000))),
        in_chans=int(model_cfg.get("in_chans", 3)),
        run_dir=run_dir,
        checkpoint=checkpoint,
        weights=weights_name,
        data_cfg=data_cfg,
        model_cfg=model_cfg,
    )


def load_published_member(name: str, weights: str) -> Member:
    """A network with published weights, with the preprocessing they were evaluated with."""
    from inception_cli import catalog
    from inception_cli.weights.pretrained import create_pretrained, pretrained_preprocessing

    try:
        catalog.entry(name)
    except ValueError as error:
        raise InputError(str(error)) from None
    if not weights.startswith("timm:"):
        raise InputError(f"weights={weights!r}: published weights are named timm:<tag>")
    preprocessing = Preprocessing(**pretrained_preprocessing(weights))
    model = create_pretrained(name, weights)
    return Member(
        name=f"{name} {weights}",
        model=model,
        preprocessing=preprocessing,
        num_classes=int(getattr(model, "num_classes", 1000)),
        weights=weights,
        model_cfg={"name": name},
    )


def resolve_members(
    args: Sequence[str], *, ema: bool, data: str | None, console: Console
) -> list[Member]:
    if not args:
        run_dir = latest_finished_run()
        console.print(f"evaluating the most recent finished run: {escape(str(run_dir))}")
        return [load_run_member(run_dir, ema=ema, console=console)]
    specs = parse_member_args(args)
    if data is None and not any(isinstance(spec, Path) for spec in specs):
        raise InputError(
            "published weights need --data: the ImageNet validation folder (see docs/eval.md)"
        )
    members = []
    for spec in specs:
        if isinstance(spec, Path):
            members.append(load_run_member(spec, ema=ema, console=console))
        else:
            members.append(load_published_member(spec["model"], spec["weights"]))
    return members


def check_same_classes(members: Sequence[Member]) -> None:
    if len({member.num_classes for member in members}) > 1:
        listing = ", ".join(f"{m.name}: {m.num_classes}" for m in members)
        raise InputError(f"ensemble members predict different numbers of classes ({listing})")
