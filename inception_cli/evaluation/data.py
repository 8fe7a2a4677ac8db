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
    from inception_cli.config.compose import compose_train_config

    _data_preset_names(name)
    return as_dict(compose_train_config([f"data={name}"]).data)


def check_data_option(data: str | None) -> None:
    """--data names an existing, non-empty folder or a data preset: checked before any network
    is loaded (published weights may be a download) or image read."""
    if data is None:
        return
    folder = Path(data)
    if not folder.exists():
        _data_preset_names(data)
    elif not folder.is_dir():
        raise InputError(f"--data {data} is a file; give the folder of the validation images")
    elif not any(folder.iterdir()):
        raise InputError(f"--data {data} is an empty folder; it holds no images")


def _data_preset_names(name: str) -> list[str]:
    from inception_cli.config.compose import group_options

    presets = list(group_options("data"))
    if name not in presets:
        raise InputError(
            f"--data {name!r} is neither a folder nor a data preset ({', '.join(presets)})"
        )
    return presets


def check_blacklist(path: Path) -> None:
    """A readable text file of one or more 1-based indices, one per line."""
    from inception_cli.data.imagenet_val import read_blacklist

    try:
        path.read_bytes().decode("utf-8")
    except OSError as error:
        raise InputError(f"cannot read the blacklist {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(
            f"{path} is not a text file; --exclude-blacklist takes the devkit's blacklist, one "
            "1-based image index per line"
        ) from None
    if not read_blacklist(path):
        raise InputError(
            f"the blacklist {path} lists no image; give the devkit's "
            "ILSVRC2015_clsloc_validation_blacklist.txt, or leave out --exclude-blacklist"
        )


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


def _without_blacklisted(dataset: Dataset[Any], blacklist_file: Path) -> tuple[Dataset[Any], int]:
    from inception_cli.data.imagenet_val import ValImages, read_blacklist

    if not isinstance(dataset, ValImages):
        raise InputError(
            "--exclude-blacklist applies to the ImageNet validation set; pass its folder with --data"
        )
    return dataset.without(read_blacklist(blacklist_file))


def _num_workers(
    images: EvaluationImages, count: int, data_cfg: dict[str, Any], processes: int
) -> int:
    """Loader workers of each of `processes` evaluation processes on this machine: decoding
    files overlaps the forward passes; the cores are shared out among the processes."""
    if images.decodes_files and count >= MIN_IMAGES_FOR_WORKERS * processes:
        return max(1, min(MAX_WORKERS, (os.cpu_count() or 1) // processes))
    return int(data_cfg.get("num_workers", 0) or 0)


def resolve_data(
    members: Sequence[Member],
    data: str | None,
    split: str,
    blacklist_file: Path | None,
    limit: int | None,
    processes: int = 1,
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
    num_workers = _num_workers(images, len(dataset), data_cfg, processes)  # type: ignore[arg-type]
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
