"""Short model names (v3, v4, irv1, irv2, irv2_paper) mapped to their builders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from torch import nn


@dataclass(frozen=True)
class ModelInfo:
    name: str
    builder: Callable[..., nn.Module]
    description: str
    residual: bool
    default_input_size: int = 299
    min_input_size: int = 75
    timm_name: str | None = None  # timm architecture with the same layout and keys, if any
    pretrained_tags: tuple[str, ...] = field(default_factory=tuple)  # timm weight tags


_REGISTRY: dict[str, ModelInfo] = {}


def register_model(info: ModelInfo) -> None:
    if info.name in _REGISTRY:
        raise ValueError(f"model {info.name!r} is registered twice")
    _REGISTRY[info.name] = info


def list_models() -> list[str]:
    return sorted(_REGISTRY)


def model_info(name: str) -> ModelInfo:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown model {name!r}; known models: {', '.join(list_models())}"
        ) from None
