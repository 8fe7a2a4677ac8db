"""The networks of an evaluation: run directories and published weights, loaded into Members
with the preprocessing each was trained or published with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from rich.console import Console
from rich.markup import escape
from torch import Tensor, nn

from inception_cli import runs
from inception_cli.errors import InputError

RUNS_DIR = Path("runs")
MEMBER_KEYS = ("model", "weights")


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


def parse_member_args(args: Sequence[str]) -> list[Path | dict[str, str]]:
    """Run directories, and `model=<name> weights=timm:<tag>` groups (a key seen twice starts a
    new group)."""
    specs: list[Path | dict[str, str]] = []
    group: dict[str, str] | None = None
    for token in args:
        key, sep, value = token.partition("=")
        if token.startswith("-"):
            raise InputError(f"unknown option {token!r}; see `inception eval --help`")
        if not sep or Path(token).exists():
            specs.append(Path(token))
            group = None
            continue
        if key not in MEMBER_KEYS:
            raise InputError(
                f"unknown argument {token!r}; give run directories or model=<name> "
                "weights=timm:<tag>"
            )
        if group is None or key in group:
            group = {}
            specs.append(group)
        group[key] = value
    for spec in specs:
        if isinstance(spec, dict) and set(spec) != set(MEMBER_KEYS):
            given = " ".join(f"{key}={value}" for key, value in spec.items())
            raise InputError(
                f"{given!r}: published weights need both model=<name> and weights=timm:<tag>"
            )
    return specs


def latest_finished_run(runs_dir: Path = RUNS_DIR) -> Path:
    """The finished run (runs/<id> or runs/<sweep>/<n>_<model>) updated last."""
    run_dir = runs.latest_finished_run(runs_dir)
    if run_dir is None:
        raise InputError(
            f"no finished run under ./{runs_dir}; train one with `inception train` or name a run "
            "directory"
        )
    return run_dir


def config_dict(node: Any) -> dict[str, Any]:
    """A config node (or None) as a plain dict, interpolations resolved."""
    if isinstance(node, DictConfig):
        value = OmegaConf.to_container(node, resolve=True, throw_on_missing=False)
        assert isinstance(value, dict)
        return {str(key): item for key, item in value.items()}
    return dict(node or {})


def _weights_under(state_dict: dict[str, Tensor], prefix: str) -> dict[str, Tensor]:
    """The entries under `prefix`, without it (nor a torch.compile or AveragedModel wrapper)."""
    weights = {k[len(prefix) :]: v for k, v in state_dict.items() if k.startswith(prefix)}
    weights.pop("n_averaged", None)
    for wrapper in ("module.", "_orig_mod."):
        if weights and all(key.startswith(wrapper) for key in weights):
            weights = {key[len(wrapper) :]: value for key, value in weights.items()}
    return weights


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


def load_run_member(run_dir: Path, *, ema: bool, console: Console) -> Member:
    """The network of a run directory, from checkpoints/best.ckpt (else last.ckpt)."""
    from inception_cli.models import create_model

    if not run_dir.is_dir():
        raise InputError(
            f"{run_dir} is not a directory; give run directories (runs/<id>) or "
            "model=<name> weights=timm:<tag>"
        )
    config_file = run_dir / ".hydra" / "config.yaml"
    if not config_file.is_file():
        raise InputError(f"{run_dir} has no .hydra/config.yaml; is it a run of `inception train`?")
    try:
        cfg = OmegaConf.load(config_file)
        if not isinstance(cfg, DictConfig):
            raise ValueError("not a mapping")
        model_cfg = config_dict(cfg.get("model"))
        data_cfg = config_dict(cfg.get("data"))
    except Exception as error:
        raise InputError(f"cannot read {config_file}: {error}") from None
    checkpoint = next(
        (
            path
            for path in (run_dir / "checkpoints" / n for n in ("best.ckpt", "last.ckpt"))
            if path.is_file()
        ),
        None,
    )
    if checkpoint is None:
        raise InputError(
            f"{run_dir} has no checkpoints/best.ckpt or checkpoints/last.ckpt; train it (longer) "
            "or name another run"
        )
    model_name = model_cfg.pop("name", None)
    if not model_name:
        raise InputError(f"{config_file} has no model.name")
    model_cfg.pop("weights", None)  # the checkpoint replaces any initial weights
    try:
        model = create_model(str(model_name), **model_cfg)
    except (TypeError, ValueError) as error:
        raise InputError(f"cannot build the model of {run_dir}: {error}") from None
    try:
        saved = torch.load(checkpoint, map_location="cpu", weights_only=False)
    except Exception as error:
        raise InputError(f"cannot read {checkpoint}: {error}") from None
    state_dict = saved.get("state_dict", saved) if isinstance(saved, dict) else {}
    weights_name = "ema" if ema else "model"
    weights = _weights_under(state_dict, f"{weights_name}_model." if ema else "model.")
    if ema and not weights:
        console.print(
            f"{escape(str(checkpoint))} holds no EMA weights; evaluating the raw weights (model.)"
        )
        weights_name, weights = "model", _weights_under(state_dict, "model.")
    if not weights:
        raise InputError(f"{checkpoint} holds no network weights under 'model.'")
    try:
        model.load_state_dict(weights)
    except RuntimeError as error:
        first = str(error).strip().splitlines()
        raise InputError(
            f"{checkpoint} does not fit the model in {config_file}: {first[1] if len(first) > 1 else first[0]}"
        ) from None
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
        model_cfg={"name": model_name, **model_cfg},
    )


def load_published_member(name: str, weights: str) -> Member:
    """A network with published weights, with the preprocessing they were evaluated with."""
    from inception_cli.models import create_model, model_info
    from inception_cli.models.pretrained import pretrained_preprocessing

    try:
        model_info(name)
    except ValueError as error:
        raise InputError(str(error)) from None
    if not weights.startswith("timm:"):
        raise InputError(f"weights={weights!r}: published weights are named timm:<tag>")
    preprocessing = Preprocessing(**pretrained_preprocessing(weights))
    model = create_model(name, weights=weights)
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
