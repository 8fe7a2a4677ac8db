"""The networks of the paper, one file per family, behind a small registry.

from inception_cli.models import create_model, list_models
model = create_model("irv2", num_classes=10, width=0.25)
"""

from __future__ import annotations

from typing import Any

from torch import nn

from inception_cli.models import (  # noqa: F401  (registers)
    inception_resnet_v1,
    inception_resnet_v2,
    inception_v3,
    inception_v4,
)
from inception_cli.models.pretrained import convert_timm_state_dict, load_pretrained
from inception_cli.models.registry import ModelInfo, list_models, model_info

__all__ = ["ModelInfo", "convert_timm_state_dict", "create_model", "list_models", "model_info"]


def create_model(
    name: str,
    num_classes: int = 1000,
    width: float = 1.0,
    weights: str | None = None,
    **kwargs: Any,
) -> nn.Module:
    """Build model `name` (see `list_models()`); `weights="timm:<tag>"` loads published weights."""
    info = model_info(name)
    model = info.builder(num_classes=num_classes, width=width, **kwargs)
    if weights:
        load_pretrained(model, name, weights)
    return model
