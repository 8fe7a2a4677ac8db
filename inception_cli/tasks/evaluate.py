"""`inception eval`: single-crop, 10-crop and 144-crop evaluation of runs and published
weights, alone or as an ensemble (the paper's Tables 2 and 5).

For each batch of images: the crops of each member's own preprocessing, normalised; each
member's softmax probabilities averaged over the crops; the ensemble's probabilities are the
mean of its members' (GoogLeNet section 7; max-pooling over crops was worse). The protocols and
the crop order are documented in inception_cli/data/crops.py and docs/eval.md.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, Subset

from inception_cli import runs
from inception_cli.data.crops import (
    CROP_COUNTS,
    make_crops,
    make_crops_batch,
    multi_crop_scales,
    single_crop_scale,
)
from inception_cli.data.imagenet_val import ValImages, open_imagenet_val, read_blacklist
from inception_cli.errors import InputError
from inception_cli.models.fusion import fold_batchnorm

RUNS_DIR = Path("runs")
MEMBER_KEYS = ("model", "weights")
TOP_K = 5
# Worker processes cost more to start than they save on a few hundred small images.
MIN_IMAGES_FOR_WORKERS = 1000
PROTOCOLS = {
    1: "centre crop of the image resized to input_size / crop_fraction (shorter side)",
    10: "4 corners + centre at the single-crop scale, and their mirrors (GoogLeNet 10-crop)",
    144: "4 scales x 3 squares x (4 corners + centre + whole square) x 2 mirrors (GoogLeNet)",
}


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


@dataclass
class EvalData:
    dataset: Dataset[Any]
    description: dict[str, Any]
    num_classes: int | None  # None when the label file does not fix it
    max_label: int
    in_chans: int
    excluded_blacklist: int = 0
    num_workers: int = 0


@dataclass
class Scores:
    """Top-1 / top-5 errors (%) of each member and of the ensemble, and the throughput."""

    images: int
    corrupt: int
    member_errors: list[tuple[float, float]]
    ensemble_errors: tuple[float, float]
    wall_time_s: float
    forward_time_s: float
    device: str
    labels_sha256: str = ""  # of the evaluated images' labels in order: same digest, same images

    @property
    def images_per_s(self) -> float:
        return self.images / self.wall_time_s if self.wall_time_s > 0 else 0.0

    @property
    def share_outside_forward(self) -> float:
        if self.wall_time_s <= 0:
            return 0.0
        return max(0.0, 1.0 - self.forward_time_s / self.wall_time_s)


# ----------------------------------------------------------------------------- members


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


def _container(node: Any) -> dict[str, Any]:
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
        model_cfg = _container(cfg.get("model"))
        data_cfg = _container(cfg.get("data"))
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


# ----------------------------------------------------------------------------- data


def _data_preset(name: str) -> dict[str, Any]:
    from inception_cli.config import compose_train_config, group_options

    presets = group_options("data")
    if name not in presets:
        raise InputError(
            f"--data {name!r} is neither a folder nor a data preset ({', '.join(presets)})"
        )
    return _container(compose_train_config([f"data={name}"]).data)


def _data_of_members(members: Sequence[Member]) -> dict[str, Any]:
    configs = [member.data_cfg for member in members if member.data_cfg is not None]
    if not configs:
        raise InputError(
            "published weights need --data: the ImageNet validation folder (see docs/eval.md)"
        )
    first = configs[0]
    for other in configs[1:]:
        if (other.get("name"), other.get("root")) != (first.get("name"), first.get("root")):
            raise InputError(
                f"the runs were trained on different data ({first.get('name')} and "
                f"{other.get('name')}); choose what to evaluate on with --data"
            )
    return first


def resolve_data(
    members: Sequence[Member],
    data: str | None,
    split: str,
    blacklist_file: Path | None,
    limit: int | None,
) -> EvalData:
    """The images to evaluate: --data (a folder or a preset), else the runs' own data."""
    from inception_cli.data import build_image_dataset

    folder: Path | None = None
    data_cfg: dict[str, Any] = {}
    if data is not None and Path(data).exists():
        folder = Path(data)
    else:
        data_cfg = _data_of_members(members) if data is None else _data_preset(data)
        if data_cfg.get("name") == "imagenet":
            root = data_cfg.get("root")
            if root in (None, "", "???"):
                raise InputError("data.root is not set; pass the ImageNet folder with --data")
            folder = Path(str(root))
    dataset: Dataset[Any]
    description: dict[str, Any]
    if folder is not None:
        dataset = open_imagenet_val(folder, split)
        val_images = dataset
        num_classes = val_images.num_classes
        max_label = max(item.label for item in val_images.images)
        description = {
            "name": "imagenet",
            "root": str(val_images.root),
            "split": split,
            "layout": val_images.layout,
        }
        in_chans = 3
    else:
        dataset = build_image_dataset(data_cfg, split)
        num_classes = int(data_cfg["num_classes"])
        max_label = num_classes - 1
        in_chans = int(data_cfg.get("in_chans", 3))
        description = {"name": data_cfg.get("name"), "root": data_cfg.get("root"), "split": split}

    excluded = 0
    if blacklist_file is not None:
        if not isinstance(dataset, ValImages):
            raise InputError(
                "--exclude-blacklist applies to the ImageNet validation set; pass its folder "
                "with --data"
            )
        dataset, excluded = dataset.without(read_blacklist(blacklist_file))
        description["blacklist"] = str(blacklist_file)
    num_workers = int(data_cfg.get("num_workers", 0) or 0)
    if isinstance(dataset, ValImages) and len(dataset) >= MIN_IMAGES_FOR_WORKERS:
        num_workers = min(8, os.cpu_count() or 1)
    if limit is not None:
        dataset = Subset(dataset, range(min(limit, len(dataset))))  # type: ignore[arg-type]
    return EvalData(dataset, description, num_classes, max_label, in_chans, excluded, num_workers)


def check_same_classes(members: Sequence[Member]) -> None:
    if len({member.num_classes for member in members}) > 1:
        listing = ", ".join(f"{m.name}: {m.num_classes}" for m in members)
        raise InputError(f"ensemble members predict different numbers of classes ({listing})")


def check_compatible(members: Sequence[Member], eval_data: EvalData) -> None:
    check_same_classes(members)
    num_classes = members[0].num_classes
    if eval_data.num_classes is not None and eval_data.num_classes != num_classes:
        raise InputError(
            f"the data has {eval_data.num_classes} classes but the network predicts "
            f"{num_classes}; evaluate on data with the classes it was trained on"
        )
    if eval_data.max_label >= num_classes:
        raise InputError(
            f"the data has labels up to {eval_data.max_label} but the network predicts "
            f"{num_classes} classes"
        )
    for member in members:
        if member.in_chans != eval_data.in_chans:
            raise InputError(
                f"{member.name} takes {member.in_chans}-channel images but the data has "
                f"{eval_data.in_chans} channels"
            )
        if len(member.preprocessing.mean) != member.in_chans:
            raise InputError(f"{member.name}: data.mean needs {member.in_chans} values")


# ----------------------------------------------------------------------------- evaluation


def collate_images(batch: list[tuple[Tensor | None, Any]]) -> tuple[list[Tensor | None], Tensor]:
    """Images of different sizes stay a list; labels become a tensor."""
    return [image for image, _ in batch], torch.tensor([int(label) for _, label in batch])


def crops_of(images: list[Tensor], crops: int, geometry: tuple[int, float, str]) -> Tensor:
    """(B, crops, C, size, size); one batched call when the images share a size."""
    size, crop_fraction, interpolation = geometry
    if all(image.shape == images[0].shape for image in images):
        return make_crops_batch(
            torch.stack(images),
            crops,
            size,
            crop_fraction=crop_fraction,
            interpolation=interpolation,
        )
    return torch.stack(
        [
            make_crops(image, crops, size, crop_fraction=crop_fraction, interpolation=interpolation)
            for image in images
        ]
    )


def count_correct(probs: Tensor, labels: Tensor) -> tuple[int, int]:
    """Images whose label is the top prediction, and among the top 5 (top min(5, classes))."""
    top = probs.topk(min(TOP_K, probs.shape[1]), dim=1).indices
    hits = top == labels[:, None]
    return int(hits[:, 0].sum()), int(hits.any(dim=1).sum())


def _progress(console: Console, enabled: bool) -> Progress:
    return Progress(
        TextColumn("evaluating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("images"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not enabled,
    )


def evaluate_members(
    members: Sequence[Member],
    dataset: Dataset[Any],
    *,
    crops: int,
    batch_size: int,
    num_workers: int = 0,
    device: torch.device | None = None,
    console: Console | None = None,
    show_progress: bool = True,
) -> Scores:
    """Errors of each member and of their ensemble (mean of the members' crop-averaged softmax).

    A forward pass sees the crops of max(1, batch_size // crops) images, i.e. at most
    max(batch_size, crops) network inputs.
    """
    if crops not in CROP_COUNTS:
        raise InputError(f"--crops {crops}; use one of {', '.join(map(str, CROP_COUNTS))}")
    device = device or torch.device("cpu")
    console = console or Console(stderr=True)
    # BatchNorm folded into the convolutions: the same logits, fewer kernels. The members keep
    # their own (unfolded) networks.
    models = [fold_batchnorm(member.model.to(device).eval()) for member in members]
    statistics = {
        member.preprocessing: (
            torch.tensor(member.preprocessing.mean, device=device).view(-1, 1, 1),
            torch.tensor(member.preprocessing.std, device=device).view(-1, 1, 1),
        )
        for member in members
    }
    loader = DataLoader(
        dataset,
        batch_size=max(1, batch_size // crops),
        num_workers=num_workers,
        collate_fn=collate_images,
    )
    member_correct = [[0, 0] for _ in members]
    ensemble_correct = [0, 0]
    images_done = corrupt = 0
    labels_digest = hashlib.sha256()
    forward_time = 0.0
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    start = time.perf_counter()
    with _progress(console, show_progress) as progress, torch.inference_mode():
        task = progress.add_task("eval", total=len(dataset))  # type: ignore[arg-type]
        for images, labels in loader:
            readable = [i for i, image in enumerate(images) if image is not None]
            corrupt += len(images) - len(readable)
            progress.advance(task, len(images))
            if not readable:
                continue
            batch = [images[i].to(device) for i in readable]  # type: ignore[union-attr]
            labels = labels[readable]
            labels_digest.update(labels.to(torch.int64).numpy().tobytes())
            labels = labels.to(device)
            crops_by_geometry: dict[tuple[int, float, str], Tensor] = {}
            member_probs = []
            for index, member in enumerate(members):
                preprocessing = member.preprocessing
                if preprocessing.geometry not in crops_by_geometry:
                    crops_by_geometry[preprocessing.geometry] = crops_of(
                        batch, crops, preprocessing.geometry
                    )
                views = crops_by_geometry[preprocessing.geometry]
                mean, std = statistics[preprocessing]
                inputs = ((views.flatten(0, 1) - mean) / std).contiguous()
                synchronize()
                forward_start = time.perf_counter()
                logits = models[index](inputs)
                if isinstance(logits, tuple):  # auxiliary logits, should a model return them
                    logits = logits[0]
                probs = logits.float().softmax(dim=1).view(len(batch), crops, -1).mean(dim=1)
                synchronize()
                forward_time += time.perf_counter() - forward_start
                member_probs.append(probs)
                top1, top5 = count_correct(probs, labels)
                member_correct[index][0] += top1
                member_correct[index][1] += top5
            top1, top5 = count_correct(torch.stack(member_probs).mean(dim=0), labels)
            ensemble_correct[0] += top1
            ensemble_correct[1] += top5
            images_done += len(batch)
    wall_time = time.perf_counter() - start
    if images_done == 0:
        raise InputError("no image could be read; check the data (all files were unreadable)")

    def errors(correct: Sequence[int]) -> tuple[float, float]:
        return tuple(100.0 * (1.0 - hits / images_done) for hits in correct)  # type: ignore[return-value]

    return Scores(
        images=images_done,
        corrupt=corrupt,
        member_errors=[errors(correct) for correct in member_correct],
        ensemble_errors=errors(ensemble_correct),
        wall_time_s=wall_time,
        forward_time_s=forward_time,
        device=str(device),
        labels_sha256=labels_digest.hexdigest(),
    )


# ----------------------------------------------------------------------------- results


def unique_path(path: Path) -> Path:
    """`path`, or path-1, path-2 ... if it exists: results are never overwritten."""
    candidate, number = path, 0
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def result_path(members: Sequence[Member], crops: int, output: Path | None) -> Path:
    if output is not None:
        return unique_path(output)
    name = f"{crops}crop" + ("_ensemble" if len(members) > 1 else "")
    run_dir = next((member.run_dir for member in members if member.run_dir is not None), None)
    if run_dir is not None:
        return unique_path(run_dir / "eval" / f"{name}.json")
    tag = members[0].weights.removeprefix("timm:")
    return unique_path(RUNS_DIR / "eval" / f"{name}_{tag}.json")


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
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
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
    if crops not in CROP_COUNTS:
        raise InputError(f"--crops {crops}; use one of {', '.join(map(str, CROP_COUNTS))}")
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
