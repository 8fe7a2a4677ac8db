"""Short model names (v3, v4, irv1, irv2, irv2_paper) mapped to their builders.

A family file registers each network with `@register_model("<name>")` on its class. What the
tool says about a model (description, residual or pure, published weights) is kept under the
same name in the tool's catalog (`catalog.py`, outside this package), not here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from torch import nn

__all__ = ["get_builder", "list_models", "register_model"]

Builder = TypeVar("Builder", bound=Callable[..., nn.Module])

_BUILDERS: dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str) -> Callable[[Builder], Builder]:
    """Class (or function) decorator: `create_model(name, ...)` calls the decorated builder."""

    def register(builder: Builder) -> Builder:
        if name in _BUILDERS:
            raise ValueError(f"model {name!r} is registered twice")
        _BUILDERS[name] = builder
        return builder

    return register


def list_models() -> list[str]:
    return sorted(_BUILDERS)


def get_builder(name: str) -> Callable[..., nn.Module]:
    """The builder registered as `name`; ValueError naming the registered models otherwise."""
    try:
        return _BUILDERS[name]
    except KeyError:
        raise ValueError(
            f"unknown model {name!r}; known models: {', '.join(list_models())}"
        ) from None
