"""The images to evaluate: --data (an ImageNet validation folder or a data preset), else the data
the runs were trained on; the blacklist; whether the data fits the members."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch.utils.data import Dataset, Subset

from inception_cli.data import EvaluationImages, build_evaluation_images
from inception_cli.data.imagenet_val import ValImages, read_blacklist
from inception_cli.data.sets.imagenet import validation_images
from inception_cli.data.spec import as_dict
from inception_cli.errors import InputError
from inception_cli.evaluation.members import Member, check_same_classes

# Worker processes cost more to start than they save on a few hundred small images.
MIN_IMAGES_FOR_WORKERS = 1000
MAX_WORKERS = 8


@dataclass
class EvalData:
    dataset: Dataset[Any]
    description: dict[str, Any]
    num_classes: int | None  # None when the label file does not fix it
    max_label: int
    in_chans: int
    excluded_blacklist: int = 0
    num_workers: int = 0


def _data_preset(name: str) -> dict[str, Any]:
    from inception_cli.config import compose_train_config, group_options

    presets = group_options("data")
    if name not in presets:
        raise InputError(
            f"--data {name!r} is neither a folder nor a data preset ({', '.join(presets)})"
        )
    return as_dict(compose_train_config([f"data={name}"]).data)


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


def _without_blacklisted(dataset: Dataset[Any], blacklist_file: Path) -> tuple[ValImages, int]:
    if not isinstance(dataset, ValImages):
        raise InputError(
            "--exclude-blacklist applies to the ImageNet validation set; pass its folder with --data"
        )
    return dataset.without(read_blacklist(blacklist_file))


def _num_workers(images: EvaluationImages, count: int, data_cfg: dict[str, Any]) -> int:
    if images.decodes_files and count >= MIN_IMAGES_FOR_WORKERS:
        return min(MAX_WORKERS, os.cpu_count() or 1)
    return int(data_cfg.get("num_workers", 0) or 0)


def resolve_data(
    members: Sequence[Member],
    data: str | None,
    split: str,
    blacklist_file: Path | None,
    limit: int | None,
) -> EvalData:
    """The images to evaluate: --data (a folder or a preset), else the runs' own data."""
    data_cfg: dict[str, Any] = {}
    if data is not None and Path(data).exists():
        images = validation_images(Path(data), split)
    else:
        data_cfg = _data_of_members(members) if data is None else _data_preset(data)
        images = build_evaluation_images(data_cfg, split)
    dataset, description, excluded = images.dataset, images.description(split), 0
    if blacklist_file is not None:
        dataset, excluded = _without_blacklisted(dataset, blacklist_file)
        description["blacklist"] = str(blacklist_file)
    num_workers = _num_workers(images, len(dataset), data_cfg)  # type: ignore[arg-type]
    if limit is not None:
        dataset = Subset(dataset, range(min(limit, len(dataset))))  # type: ignore[arg-type]
    return EvalData(
        dataset,
        description,
        images.num_classes,
        images.max_label,
        images.in_chans,
        excluded,
        num_workers,
    )


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
