"""The embedded default: a class-balanced subset of Fashion-MNIST stored in the package
(inception_cli/data/fashion_mnist.py), 28 x 28 grey images of 10 classes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from inception_cli.data.registry import DataSet, EvaluationImages, register
from inception_cli.data.spec import DataSpec
from inception_cli.errors import InputError

if TYPE_CHECKING:
    from torch.utils.data import Dataset

CLASS_NAMES_FASHION_MNIST = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


@register
class Embedded(DataSet):
    name = "embedded"

    def check(self, spec: DataSpec, splits: Sequence[str]) -> None:
        if spec.in_chans not in (1, 3):
            raise InputError(
                f"data.in_chans={spec.in_chans} does not fit the embedded grey images; use 1, "
                "or 3 to repeat the grey channel"
            )

    def training_split(self, spec: DataSpec, split: str, *, augment: bool) -> Dataset[Any]:
        from inception_cli.data.fashion_mnist import EmbeddedFashionMNIST

        return EmbeddedFashionMNIST(spec, split, augment=augment)

    def evaluation_images(self, spec: DataSpec, split: str) -> EvaluationImages:
        from inception_cli.data.fashion_mnist import EmbeddedOriginalImages

        self.check(spec, (split,))
        return EvaluationImages.from_spec(spec, EmbeddedOriginalImages(split, spec.in_chans))
