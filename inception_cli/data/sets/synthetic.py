"""Random images and labels of any size (inception_cli/data/random_images.py): smoke tests and
benchmarks, no files needed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inception_cli.data.registry import DataSet, EvaluationImages, register
from inception_cli.data.spec import AUGMENTATIONS, DataSpec

if TYPE_CHECKING:
    from inception_cli.data.random_images import SyntheticImages


def _split(spec: DataSpec, split: str, *, unit_float: bool) -> SyntheticImages:
    from inception_cli.data.random_images import SyntheticImages

    return SyntheticImages(
        spec.num_train if split == "train" else spec.num_val,
        spec.num_classes,
        spec.in_chans,
        spec.input_size,
        split=split,
        seed=spec.seed,
        unit_float=unit_float,
    )


@register
class Synthetic(DataSet):
    name = "synthetic"
    # Every value is taken (noise gains nothing from augmentation), so that any preset, the
    # paper's with TF-slim's preprocessing too, runs on synthetic data for a quick check.
    augmentations = (None, *AUGMENTATIONS)

    def training_split(self, spec: DataSpec, split: str, *, augment: bool) -> SyntheticImages:
        return _split(spec, split, unit_float=False)  # noise gains nothing from augmentation

    def evaluation_images(self, spec: DataSpec, split: str) -> EvaluationImages:
        return EvaluationImages.from_spec(spec, _split(spec, split, unit_float=True))
