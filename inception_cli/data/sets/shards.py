"""ImageNet, or any image folder, packed into tar shards by `inception data pack SRC DST`:
`data=shards data.root=DST` trains and evaluates from them (docs/data.md).

The pack's index.json gives the classes and where every sample lies (data/shard_index.py);
the images are read by global index (data/shards.py), decoded and augmented like those of the
folder they came from (`data=imagenet`), by the loader workers or by DALI on the GPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inception_cli.data.registry import DataSet, EvaluationImages, register
from inception_cli.data.shard_index import ShardIndex, check_shard_files, read_index
from inception_cli.data.spec import AUGMENTATIONS, BACKENDS, DataSpec
from inception_cli.errors import InputError

if TYPE_CHECKING:
    from torch.utils.data import Dataset

    from inception_cli.data.shards import ShardReader

NAME = "shards"


def _root(spec: DataSpec) -> Path:
    if not spec.root:
        raise InputError(
            f"data={NAME} needs data.root: the folder `inception data pack SRC DST` wrote (DST)"
        )
    return Path(spec.root).expanduser()


def _checked_index(spec: DataSpec, splits: Sequence[str]) -> ShardIndex:
    root = _root(spec)
    index = read_index(root)
    if index.num_classes != spec.num_classes:
        raise InputError(
            f"the shards in {root} hold {index.num_classes} classes but data.num_classes="
            f"{spec.num_classes}; set data.num_classes={index.num_classes}"
        )
    for split in splits:
        if not index.splits.get(split):
            packed = ", ".join(sorted(index.splits)) or "none"
            raise InputError(
                f"{root} holds no {split} split (packed: {packed}); pack a source with "
                f"{split}/ into it"
            )
        check_shard_files(root, index.splits[split])
    return index


def _reader(spec: DataSpec, split: str) -> ShardReader:
    from inception_cli.data.shards import ShardReader

    index = _checked_index(spec, (split,))
    return ShardReader(_root(spec), index.splits[split])


@register
class Shards(DataSet):
    name = NAME
    augmentations = (None, *AUGMENTATIONS)
    backends = BACKENDS

    def check(self, spec: DataSpec, splits: Sequence[str]) -> None:
        if spec.in_chans != 3:
            raise InputError(f"data.in_chans={spec.in_chans}: packed images are RGB, use 3")
        _checked_index(spec, splits)

    def training_split(self, spec: DataSpec, split: str, *, augment: bool) -> Dataset[Any]:
        from inception_cli.data.shards import ShardSamples

        reader = _reader(spec, split)
        if spec.backend == "dali":
            from inception_cli.data.dali_inputs import DaliCrops

            return ShardSamples(
                reader, DaliCrops(spec, augment), decode=False, max_pixels=spec.max_image_pixels
            )
        from inception_cli.data.transforms import image_transform

        transform = image_transform(spec, augment=augment)
        return ShardSamples(reader, transform, max_pixels=spec.max_image_pixels)

    def evaluation_images(self, spec: DataSpec, split: str) -> EvaluationImages:
        from inception_cli.data.shards import ShardOriginals

        reader = _reader(spec, split)
        return EvaluationImages(
            name=NAME,
            dataset=ShardOriginals(reader, spec.max_image_pixels),
            in_chans=3,
            num_classes=spec.num_classes,
            max_label=int(reader.labels.max()) if len(reader) else 0,
            root=str(_root(spec)),
            layout="shards",
            decodes_files=True,
        )
