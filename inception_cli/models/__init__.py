"""The networks of the paper, one file per family, behind a small registry.

from inception_cli.models import create_model, list_models
model = create_model("irv2", num_classes=10, width=0.25)

This package is plain torch and imports nothing else of the tool: it knows how to build each
network and nothing more about it. What the tool says about a model (description, published
weights, colour) is in the catalog (`catalog.py`, one level up), and published weights load
through `weights/pretrained.py`.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from torch import nn

__all__ = ["create_model", "get_builder", "list_models"]


@cache
def _registry() -> Any:
    """The registry, once every module of this package is imported: a family file registers its
    networks with `@register_model` on import, so adding one needs no line here. Done on first
    use, not on import, so that importing the package imports no torch (the config rules read
    models/scales.py before the training process starts)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return importlib.import_module(f"{__name__}.registry")


def get_builder(name: str) -> Callable[..., nn.Module]:
    """The builder registered as `name`; ValueError naming the registered models otherwise."""
    return _registry().get_builder(name)  # type: ignore[no-any-return]


def list_models() -> list[str]:
    return _registry().list_models()  # type: ignore[no-any-return]


def create_model(
    name: str, num_classes: int = 1000, width: float = 1.0, **kwargs: Any
) -> nn.Module:
    """Build model `name` (see `list_models()`). ValueError for an unknown name or a bad width
    or residual scale, TypeError for an argument the family does not take."""
    return get_builder(name)(num_classes=num_classes, width=width, **kwargs)
