"""The data sets by `data.name`: one DataSet per module of inception_cli/data/sets.

Adding a data set is a module there (a DataSet subclass decorated with `@register`) and
conf/data/<name>.yaml with `name: <name>`. Nothing here imports torch: the CLI checks a config
with these entries before the training process starts, and the entries import their torch code
only when they build a dataset.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from inception_cli.errors import InputError

if TYPE_CHECKING:
    from torch.utils.data import Dataset

    from inception_cli.data.spec import DataSpec

ENTRY_PACKAGE = "inception_cli.data.sets"


@dataclass(frozen=True)
class EvaluationImages:
    """Images for multi-crop evaluation: (float image (C, H, W) in [0, 1] at its original size,
    label), not resized, cropped or normalised; and what an evaluation needs to know of them."""

    name: str
    dataset: Dataset[Any]
    in_chans: int
    num_classes: int | None  # None when the labels do not fix it
    max_label: int
    root: str | None
    layout: str | None = None
    decodes_files: bool = False  # worth worker processes on a large set

    @classmethod
    def from_spec(cls, spec: DataSpec, dataset: Dataset[Any]) -> EvaluationImages:
        """Images whose classes and channels are those the config states."""
        return cls(
            name=spec.name,
            dataset=dataset,
            in_chans=spec.in_chans,
            num_classes=spec.num_classes,
            max_label=spec.num_classes - 1,
            root=spec.root,
        )

    def description(self, split: str) -> dict[str, Any]:
        described: dict[str, Any] = {"name": self.name, "root": self.root, "split": split}
        if self.layout is not None:
            described["layout"] = self.layout
        return described


class DataSet(ABC):
    """One data set of the `data` config group.

    Its training and validation samples are (uint8 image (in_chans, input_size, input_size),
    label): the loaders carry uint8, a quarter of the bytes of float32, and the batch is
    scaled and normalised on the device (data/finishing.py). With `data.augment=inception` the
    image is a `Distorted` pair, the image and the colour distortion drawn for it, which is
    applied there too. With `data.backend=dali` a sample is the encoded file and the crop drawn
    for it (data/dali_inputs.py); the GPU decodes it.
    """

    name: ClassVar[str]
    # data.augment values and data.backend values this data set takes
    augmentations: ClassVar[tuple[str | None, ...]] = (None, "standard")
    backends: ClassVar[tuple[str, ...]] = ("cpu",)

    def check(self, spec: DataSpec, splits: Sequence[str]) -> None:  # noqa: B027
        """InputError when the config cannot give these splits (a missing root, say).

        Runs in the CLI process before torch is imported, so it must not import torch.
        """

    def check_support(self, spec: DataSpec) -> None:
        """InputError unless this data set takes data.augment and data.backend as given, and
        the machine can run the backend (torch-free, like `check`)."""
        from inception_cli.data.backends import check_backend

        if spec.augment not in self.augmentations:
            known = ", ".join(
                "false" if a is None else "true" if a == "standard" else a
                for a in self.augmentations
            )
            raise InputError(f"data={self.name} takes data.augment {known}, not {spec.augment}")
        if spec.backend not in self.backends:
            raise InputError(
                f"data.backend={spec.backend}: data={self.name} has no files to decode; "
                f"use data.backend={self.backends[0]}"
            )
        check_backend(spec)

    @abstractmethod
    def training_split(self, spec: DataSpec, split: str, *, augment: bool) -> Dataset[Any]:
        """The samples a network trains or validates on (see the class docstring); randomly
        augmented as data.augment says when `augment`, else cropped as at evaluation."""

    @abstractmethod
    def evaluation_images(self, spec: DataSpec, split: str) -> EvaluationImages:
        """The images of `split` at their original size, for multi-crop evaluation."""


_ENTRIES: dict[str, DataSet] = {}
Entry = TypeVar("Entry", bound=DataSet)


def register(entry_class: type[Entry]) -> type[Entry]:
    """Class decorator: make `entry_class` the data set that `data.name` selects by its name."""
    if entry_class.name in _ENTRIES:
        raise RuntimeError(f"two data sets are named {entry_class.name!r}")
    _ENTRIES[entry_class.name] = entry_class()
    return entry_class


@cache
def _load_entries() -> None:
    package = importlib.import_module(ENTRY_PACKAGE)
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{ENTRY_PACKAGE}.{module.name}")


def dataset_names() -> list[str]:
    _load_entries()
    return sorted(_ENTRIES)


def dataset_entry(name: Any) -> DataSet:
    """The data set `data.name` selects; InputError naming the known ones if there is none."""
    _load_entries()
    entry = _ENTRIES.get(name) if isinstance(name, str) else None
    if entry is None:
        raise InputError(
            f"unknown data.name={name!r}; known datasets: {', '.join(dataset_names())}"
        )
    return entry
