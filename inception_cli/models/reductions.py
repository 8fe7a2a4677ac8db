"""The grid reductions that several families build from the same block with other filter counts.

Reduction-A (Fig 7) serves Inception-v4 and both Inception-ResNets; the residual Reduction-B
(Figs 12 and 18) serves both Inception-ResNets. Inception-v4's own Reduction-B (Fig 8) and the
reductions of Inception-v3 have other branches and stay in their family's file.
"""

from __future__ import annotations

from torch import nn

from inception_cli.models.layers import BasicConv2d, FilterConcat, scaled

__all__ = ["ReductionA", "ReductionB"]


class ReductionA(FilterConcat):
    """Reduction-A, 35x35 → 17x17 (Fig 7), with the filter counts k, l, m, n of Table 1:
    3x3 n s2 ‖ 1x1 k → 3x3 l → 3x3 m s2 ‖ 3x3 max pool s2 (strided layers valid).

    Inception-v4 uses (192, 224, 256, 384), Inception-ResNet-v1 (192, 192, 256, 384) and
    Inception-ResNet-v2 (256, 256, 384, 384), where TF-slim calls it Mixed_6a.
    """

    def __init__(
        self,
        in_chs: int,
        k: int,
        l: int,  # noqa: E741  (the paper's name, Table 1)
        m: int,
        n: int,
        width: float,
    ) -> None:
        super().__init__()
        k, l, m, n = (scaled(c, width) for c in (k, l, m, n))  # noqa: E741
        self.branch0 = BasicConv2d(in_chs, n, 3, stride=2)
        self.branch1 = nn.Sequential(
            BasicConv2d(in_chs, k, 1),
            BasicConv2d(k, l, 3, padding=1),
            BasicConv2d(l, m, 3, stride=2),
        )
        self.branch2 = nn.MaxPool2d(3, stride=2)
        self.out_chs = n + m + in_chs


class ReductionB(FilterConcat):
    """Reduction-B of the residual networks, 17x17 → 8x8 (Figs 12 and 18):
    1x1 256 → 3x3 `a` s2 ‖ 1x1 256 → 3x3 `b` s2 ‖ 1x1 256 → 3x3 `c1` → 3x3 `c2` s2 ‖
    3x3 max pool s2 (strided layers valid).

    Inception-ResNet-v1 (Fig 12) uses a, b, c1, c2 = 384, 256, 256, 256; Inception-ResNet-v2
    (Fig 18, TF-slim Mixed_7a) uses 384, 288, 288, 320.
    """

    def __init__(self, in_chs: int, a: int, b: int, c1: int, c2: int, width: float) -> None:
        super().__init__()
        c256 = scaled(256, width)
        a, b, c1, c2 = (scaled(c, width) for c in (a, b, c1, c2))
        self.branch0 = nn.Sequential(
            BasicConv2d(in_chs, c256, 1),
            BasicConv2d(c256, a, 3, stride=2),
        )
        self.branch1 = nn.Sequential(
            BasicConv2d(in_chs, c256, 1),
            BasicConv2d(c256, b, 3, stride=2),
        )
        self.branch2 = nn.Sequential(
            BasicConv2d(in_chs, c256, 1),
            BasicConv2d(c256, c1, 3, padding=1),
            BasicConv2d(c1, c2, 3, stride=2),
        )
        self.branch3 = nn.MaxPool2d(3, stride=2)
        self.out_chs = a + b + c2 + in_chs
