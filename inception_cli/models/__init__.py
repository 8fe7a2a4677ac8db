"""The networks of the paper, one file per family, behind a small registry.

from inception_cli.models import create_model, list_models
model = create_model("irv2", num_classes=10, width=0.25)

This package is plain torch and imports nothing else of the tool: it knows how to build each
network and nothing more about it. What the tool says about a model (description, published
weights, colour) is in the catalog (`catalog.py`, one level up), and published weights load
through `pretrained.py` beside it.
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
from inception_cli.models.registry import get_builder, list_models, register_model

__all__ = ["create_model", "get_builder", "list_models", "register_model"]


def create_model(
    name: str, num_classes: int = 1000, width: float = 1.0, **kwargs: Any
) -> nn.Module:
    """Build model `name` (see `list_models()`). ValueError for an unknown name or a bad width
    or residual scale, TypeError for an argument the family does not take."""
    return get_builder(name)(num_classes=num_classes, width=width, **kwargs)
