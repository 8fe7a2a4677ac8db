"""Inception-v3 (Szegedy et al., "Rethinking the Inception Architecture for Computer Vision", 2015).

The baseline of the Inception-v4 paper's Figs 25 and 26. The layout follows Table 1 of the v3
paper as released in TF-slim: a stem of plain convolutions, three 35x35 blocks (v3 paper Fig 5),
a grid reduction (Fig 10), four 17x17 blocks with factorised 7x7 convolutions (Fig 6), a second
grid reduction, two 8x8 blocks with expanded filter banks (Fig 7), and an optional auxiliary
classifier on the last 17x17 layer (Fig 8).

Module names reproduce timm's `inception_v3` (`Conv2d_1a_3x3`, `Mixed_5b`, `AuxLogits`, `fc`), so
published weights load without renaming. As in timm (and torchvision), the 3x3 average pools of
the blocks count the zero padding in the average; the published weights were measured that way.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from inception_cli.models.layers import BasicConv2d, InceptionNet, scaled
from inception_cli.models.registry import register_model
from inception_cli.models.stems import MAX_POOL, V3_STEM, add_layers, forward_layers

__all__ = ["InceptionV3"]

# The stem's layers under timm's keys: 299 → 149 → 147 → 147 → 73 → 73 → 71 → 35.
STEM_KEYS = (
    "Conv2d_1a_3x3",
    "Conv2d_2a_3x3",
    "Conv2d_2b_3x3",
    "Pool1",
    "Conv2d_3b_1x1",
    "Conv2d_4a_3x3",
    "Pool2",
)


def avg_pool_3x3(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)


class InceptionA(nn.Module):
    """35x35 block (v3 paper Fig 5; TF-slim Mixed_5b-d): 1x1 64 ‖ 1x1 48 → 5x5 64 ‖
    1x1 64 → 3x3 96 → 3x3 96 ‖ avg pool → 1x1 `pool_features`."""

    def __init__(self, in_chs: int, pool_features: int, width: float) -> None:
        super().__init__()
        c48, c64, c96 = scaled(48, width), scaled(64, width), scaled(96, width)
        self.branch1x1 = BasicConv2d(in_chs, c64, 1)

        self.branch5x5_1 = BasicConv2d(in_chs, c48, 1)
        self.branch5x5_2 = BasicConv2d(c48, c64, 5, padding=2)

        self.branch3x3dbl_1 = BasicConv2d(in_chs, c64, 1)
        self.branch3x3dbl_2 = BasicConv2d(c64, c96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(c96, c96, 3, padding=1)

        self.branch_pool = BasicConv2d(in_chs, scaled(pool_features, width), 1)
        self.out_chs = c64 + c64 + c96 + scaled(pool_features, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1x1 = self.branch1x1(x)
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        branch_pool = self.branch_pool.after_avg_pool(x, avg_pool_3x3)
        return torch.cat((branch1x1, branch5x5, branch3x3dbl, branch_pool), 1)


class ReductionA(nn.Module):
    """35x35 → 17x17 grid reduction (v3 paper Fig 10; TF-slim Mixed_6a): 3x3 384 s2 ‖
    1x1 64 → 3x3 96 → 3x3 96 s2 ‖ 3x3 max pool s2."""

    def __init__(self, in_chs: int, width: float) -> None:
        super().__init__()
        c64, c96, c384 = scaled(64, width), scaled(96, width), scaled(384, width)
        self.branch3x3 = BasicConv2d(in_chs, c384, 3, stride=2)

        self.branch3x3dbl_1 = BasicConv2d(in_chs, c64, 1)
        self.branch3x3dbl_2 = BasicConv2d(c64, c96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(c96, c96, 3, stride=2)
        self.out_chs = c384 + c96 + in_chs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch3x3 = self.branch3x3(x)
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        branch_pool = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat((branch3x3, branch3x3dbl, branch_pool), 1)


class InceptionB(nn.Module):
    """17x17 block with 7x7 convolutions factorised into 1x7 and 7x1 (v3 paper Fig 6; TF-slim
    Mixed_6b-e): 1x1 192 ‖ 1x1 c7 → 1x7 c7 → 7x1 192 ‖
    1x1 c7 → 7x1 c7 → 1x7 c7 → 7x1 c7 → 1x7 192 ‖ avg pool → 1x1 192."""

    def __init__(self, in_chs: int, channels_7x7: int, width: float) -> None:
        super().__init__()
        c7, c192 = scaled(channels_7x7, width), scaled(192, width)
        self.branch1x1 = BasicConv2d(in_chs, c192, 1)

        self.branch7x7_1 = BasicConv2d(in_chs, c7, 1)
        self.branch7x7_2 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, c192, (7, 1), padding=(3, 0))

        self.branch7x7dbl_1 = BasicConv2d(in_chs, c7, 1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, c192, (1, 7), padding=(0, 3))

        self.branch_pool = BasicConv2d(in_chs, c192, 1)
        self.out_chs = 4 * c192

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1x1 = self.branch1x1(x)

        branch7x7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))

        branch7x7dbl = self.branch7x7dbl_1(x)
        branch7x7dbl = self.branch7x7dbl_2(branch7x7dbl)
        branch7x7dbl = self.branch7x7dbl_3(branch7x7dbl)
        branch7x7dbl = self.branch7x7dbl_4(branch7x7dbl)
        branch7x7dbl = self.branch7x7dbl_5(branch7x7dbl)

        branch_pool = self.branch_pool.after_avg_pool(x, avg_pool_3x3)
        return torch.cat((branch1x1, branch7x7, branch7x7dbl, branch_pool), 1)


class ReductionB(nn.Module):
    """17x17 → 8x8 grid reduction (TF-slim Mixed_7a): 1x1 192 → 3x3 320 s2 ‖
    1x1 192 → 1x7 192 → 7x1 192 → 3x3 192 s2 ‖ 3x3 max pool s2."""

    def __init__(self, in_chs: int, width: float) -> None:
        super().__init__()
        c192, c320 = scaled(192, width), scaled(320, width)
        self.branch3x3_1 = BasicConv2d(in_chs, c192, 1)
        self.branch3x3_2 = BasicConv2d(c192, c320, 3, stride=2)

        self.branch7x7x3_1 = BasicConv2d(in_chs, c192, 1)
        self.branch7x7x3_2 = BasicConv2d(c192, c192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(c192, c192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(c192, c192, 3, stride=2)
        self.out_chs = c320 + c192 + in_chs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch3x3 = self.branch3x3_2(self.branch3x3_1(x))

        branch7x7x3 = self.branch7x7x3_1(x)
        branch7x7x3 = self.branch7x7x3_2(branch7x7x3)
        branch7x7x3 = self.branch7x7x3_3(branch7x7x3)
        branch7x7x3 = self.branch7x7x3_4(branch7x7x3)

        branch_pool = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat((branch3x3, branch7x7x3, branch_pool), 1)


class InceptionC(nn.Module):
    """8x8 block with expanded filter bank outputs (v3 paper Fig 7; TF-slim Mixed_7b-c):
    1x1 320 ‖ 1x1 384 → [1x3 384 ‖ 3x1 384] ‖ 1x1 448 → 3x3 384 → [1x3 384 ‖ 3x1 384] ‖
    avg pool → 1x1 192."""

    def __init__(self, in_chs: int, width: float) -> None:
        super().__init__()
        c192, c320, c384, c448 = (scaled(c, width) for c in (192, 320, 384, 448))
        self.branch1x1 = BasicConv2d(in_chs, c320, 1)

        self.branch3x3_1 = BasicConv2d(in_chs, c384, 1)
        self.branch3x3_2a = BasicConv2d(c384, c384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(c384, c384, (3, 1), padding=(1, 0))

        self.branch3x3dbl_1 = BasicConv2d(in_chs, c448, 1)
        self.branch3x3dbl_2 = BasicConv2d(c448, c384, 3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(c384, c384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(c384, c384, (3, 1), padding=(1, 0))

        self.branch_pool = BasicConv2d(in_chs, c192, 1)
        self.out_chs = c320 + 4 * c384 + c192

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1x1 = self.branch1x1(x)

        branch3x3 = self.branch3x3_1(x)
        branch3x3 = torch.cat((self.branch3x3_2a(branch3x3), self.branch3x3_2b(branch3x3)), 1)

        branch3x3dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        branch3x3dbl = torch.cat(
            (self.branch3x3dbl_3a(branch3x3dbl), self.branch3x3dbl_3b(branch3x3dbl)), 1
        )

        branch_pool = self.branch_pool.after_avg_pool(x, avg_pool_3x3)
        return torch.cat((branch1x1, branch3x3, branch3x3dbl, branch_pool), 1)


class AuxHead(nn.Module):
    """Auxiliary classifier on the last 17x17 layer (v3 paper Fig 8): 5x5 avg pool s3 → 1x1 128 →
    5x5 768 → fully connected.

    A 299 input gives a 17x17 map, pooled to the 5x5 that the 5x5 convolution reduces to 1x1.
    Smaller inputs give smaller maps; those are average-pooled (or repeated) to 5x5 instead, so
    the head works from 75x75 up and is unchanged at 299 and above. Its BatchNorm sees a 1x1 map,
    so training it needs at least two images per batch.
    """

    def __init__(self, in_chs: int, num_classes: int, width: float) -> None:
        super().__init__()
        c128, c768 = scaled(128, width), scaled(768, width)
        self.conv0 = BasicConv2d(in_chs, c128, 1)
        self.conv1 = BasicConv2d(c128, c768, 5)
        self.fc = nn.Linear(c768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if min(x.shape[-2:]) >= 17:
            x = F.avg_pool2d(x, kernel_size=5, stride=3)
        else:
            x = F.adaptive_avg_pool2d(x, 5)
        x = self.conv1(self.conv0(x))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


@register_model("v3")
class InceptionV3(InceptionNet):
    """Inception-v3 (v3 paper Table 1). `forward_features` returns (B, 2048 at width 1, 8, 8) for
    a 299x299 input.

    With `aux_logits=True`, `forward` returns `(logits, aux_logits)` in training mode and the
    logits alone in eval mode.
    """

    classifier_name = "fc"

    def __init__(
        self,
        num_classes: int = 1000,
        width: float = 1.0,
        in_chans: int = 3,
        drop_rate: float = 0.2,
        aux_logits: bool = False,
    ) -> None:
        super().__init__(width)
        self.aux_logits = aux_logits
        chs = add_layers(self, STEM_KEYS, (*V3_STEM, MAX_POOL), in_chans, width)
        self.Mixed_5b = InceptionA(chs, pool_features=32, width=width)
        self.Mixed_5c = InceptionA(self.Mixed_5b.out_chs, pool_features=64, width=width)
        self.Mixed_5d = InceptionA(self.Mixed_5c.out_chs, pool_features=64, width=width)
        self.Mixed_6a = ReductionA(self.Mixed_5d.out_chs, width)
        self.Mixed_6b = InceptionB(self.Mixed_6a.out_chs, channels_7x7=128, width=width)
        self.Mixed_6c = InceptionB(self.Mixed_6b.out_chs, channels_7x7=160, width=width)
        self.Mixed_6d = InceptionB(self.Mixed_6c.out_chs, channels_7x7=160, width=width)
        self.Mixed_6e = InceptionB(self.Mixed_6d.out_chs, channels_7x7=192, width=width)
        self.AuxLogits = AuxHead(self.Mixed_6e.out_chs, num_classes, width) if aux_logits else None
        self.Mixed_7a = ReductionB(self.Mixed_6e.out_chs, width)
        self.Mixed_7b = InceptionC(self.Mixed_7a.out_chs, width)
        self.Mixed_7c = InceptionC(self.Mixed_7b.out_chs, width)
        self.build_head(self.Mixed_7c.out_chs, num_classes, drop_rate)

    def forward_preaux(self, x: torch.Tensor) -> torch.Tensor:
        """Stem and the 35x35 and 17x17 blocks: up to the layer the auxiliary head reads."""
        x = forward_layers(self, STEM_KEYS, x)  # 35x35 for a 299 input
        x = self.Mixed_5b(x)
        x = self.Mixed_5c(x)
        x = self.Mixed_5d(x)
        x = self.Mixed_6a(x)  # 17x17
        x = self.Mixed_6b(x)
        x = self.Mixed_6c(x)
        x = self.Mixed_6d(x)
        return self.Mixed_6e(x)

    def forward_postaux(self, x: torch.Tensor) -> torch.Tensor:
        x = self.Mixed_7a(x)  # 8x8
        x = self.Mixed_7b(x)
        return self.Mixed_7c(x)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_postaux(self.forward_preaux(x))

    # Wider than InceptionNet.forward: (logits, aux_logits) in training with the auxiliary head.
    def forward(  # type: ignore[override]
        self, x: torch.Tensor
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        x = self.forward_preaux(x)
        aux = self.AuxLogits(x) if self.AuxLogits is not None and self.training else None
        logits = self.forward_head(self.forward_postaux(x))
        return logits if aux is None else (logits, aux)
