"""Residual scaling (Fig 20) as numbers, without torch: the value rule that `inception train`
checks before the training process starts and the blocks that apply it read this one function."""

from __future__ import annotations

import math
from collections.abc import Sequence

# Fig 20: the paper scales residuals by "between 0.1 and 0.3"; these are the values of the
# released Inception-ResNet-v2 (stages A, B, C), used as the default for every residual network.
DEFAULT_RESIDUAL_SCALE = (0.17, 0.10, 0.20)

ResidualScale = float | Sequence[float]


def stage_scales(residual_scale: ResidualScale) -> tuple[float, float, float]:
    """One residual scale (Fig 20) per stage A, B, C, from one float or three."""
    try:
        if isinstance(residual_scale, int | float):
            scales = [float(residual_scale)] * 3
        elif isinstance(residual_scale, str):
            raise TypeError
        else:
            scales = [float(s) for s in residual_scale]
            scales = scales * 3 if len(scales) == 1 else scales
    except (TypeError, ValueError):
        raise ValueError(
            f"residual_scale must be one number or three (stages A, B, C), got "
            f"{residual_scale!r}; pass e.g. 0.1 or [0.17, 0.10, 0.20]"
        ) from None
    if len(scales) != 3:
        raise ValueError(
            f"residual_scale must be one number or three (stages A, B, C), got {len(scales)} "
            f"values {scales}; pass e.g. 0.1 or [0.17, 0.10, 0.20]"
        )
    for s in scales:
        if not math.isfinite(s) or s <= 0:
            raise ValueError(
                f"residual_scale must be positive, got {s}; the paper uses 0.1 to 0.3 (Fig 20)"
            )
    return scales[0], scales[1], scales[2]
