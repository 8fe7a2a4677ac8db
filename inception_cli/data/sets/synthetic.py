"""Random images and labels of any size (inception_cli/data/random_images.py): smoke tests and
benchmarks, no files needed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inception_cli.data.registry import DataSet, EvaluationImages, register
from inception_cli.data.spec import DataSpec

if TYPE_CHECKING:
    from inception_cli.data.random_images import SyntheticImages


def _split(spec: DataSpec, split: str, *, normalised: bool) -> SyntheticImages:
    from inception_cli.data.random_images import SyntheticImages

    return SyntheticImages(
        spec.num_train if split == "train" else spec.num_val,
        spec.num_classes,
        spec.in_chans,
        spec.input_size,
        split=split,
        seed=spec.seed,
        mean=spec.mean if normalised else None,
        std=spec.std if normalised else None,
    )


@register
class Synthetic(DataSet):
    name = "synthetic"

    def training_split(self, spec: DataSpec, split: str, *, augment: bool) -> SyntheticImages:
        return _split(spec, split, normalised=True)  # noise gains nothing from augmentation

    def evaluation_images(self, spec: DataSpec, split: str) -> EvaluationImages:
        return EvaluationImages.from_spec(spec, _split(spec, split, normalised=False))
