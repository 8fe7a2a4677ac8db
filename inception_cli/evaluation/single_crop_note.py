"""A plain word when the multi-crop protocol does worse than the single centre crop.

The 10- and 144-crop protocols were made for ImageNet photos: objects of many sizes, often off
centre, where corners and closer views add evidence. Their crops zoom in (144 crops: the input
size cut from squares 1.14-1.57x larger; 10 crops: 1 / crop_fraction), so on images whose
object fills the frame, such as the embedded Fashion-MNIST garments (28 px, upscaled), the
corner crops cut the object and the average gets worse. docs/eval.md says more.
"""

from __future__ import annotations

from collections.abc import Sequence

from inception_cli.data.crops import multi_crop_scales, single_crop_scale
from inception_cli.evaluation.members import Member
from inception_cli.evaluation.scores import Scores


def zoom_range(crops: int, members: Sequence[Member]) -> tuple[float, float]:
    """How much larger than the input the squares the crops are cut from are."""
    zooms = []
    for member in members:
        size = member.preprocessing.input_size
        if crops == 144:
            zooms += [side / size for side in multi_crop_scales(size)]
        else:
            zooms.append(single_crop_scale(size, member.preprocessing.crop_fraction) / size)
    return min(zooms), max(zooms)


def multi_crop_note(crops: int, members: Sequence[Member], scores: Scores) -> str | None:
    """One line when the protocol's top-1 error is above the single crop's (of the ensemble,
    or of the one member), else None."""
    if crops == 1 or scores.ensemble_single_errors is None:
        return None
    multi, single = scores.ensemble_errors[0], scores.ensemble_single_errors[0]
    if multi <= single:
        return None
    low, high = zoom_range(crops, members)
    zoom = f"{low:.2f}x" if high - low < 0.005 else f"{low:.2f}-{high:.2f}x"
    why = (
        f"The crops zoom {zoom} into corners, which helps on ImageNet-scale photos but cuts "
        "objects that fill the frame, as in small upscaled images"
        if high > 1.0
        else "At crop_fraction 1 the crops do not zoom in: they differ from the single crop "
        "only by position and mirroring"
    )
    return (
        f"note: {crops} crops do worse than the single centre crop on these images "
        f"({multi:.2f}% vs {single:.2f}% top-1 error). {why}; see docs/eval.md"
    )
