"""BatchNorm folded into the convolution before it, for inference.

In eval mode BatchNorm is a fixed per-channel affine map, so conv → BN equals one convolution
with rescaled weights and a bias: `BasicConv2d` (conv without bias → BN → ReLU) becomes
`FoldedConv2d` (conv with bias → ReLU). The network computes the same logits, up to float
rounding, with one kernel fewer per layer and no BatchNorm pass over every activation.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from inception_cli.models.layers import BasicConv2d, Pool, check_pointwise

__all__ = ["FoldedConv2d", "fold_batchnorm"]


class FoldedConv2d(nn.Module):
    """A `BasicConv2d` after folding: convolution with bias, then ReLU."""

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        self.conv = conv
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv(x))

    def then_max_pool(self, x: torch.Tensor, pool: Pool) -> torch.Tensor:
        """As `BasicConv2d.then_max_pool`; the bias is a per-channel constant, which commutes
        with a maximum too."""
        return self.relu(pool(self.conv(x)))

    def after_avg_pool(self, x: torch.Tensor, pool: Pool) -> torch.Tensor:
        """As `BasicConv2d.after_avg_pool`. The bias stays in the convolution when the pooling
        leaves the padding out of its average (an average of a constant is that constant);
        otherwise it is added after the pooling, which would shrink it at the borders."""
        check_pointwise(self.conv)
        if not getattr(pool, "count_include_pad", True):
            return self.relu(pool(self.conv(x)))
        assert self.conv.bias is not None  # fuse_conv_bn_eval always gives one
        pooled = pool(F.conv2d(x, self.conv.weight))
        # In place, so the sum keeps the pooled map's dtype (bf16 under autocast), not the bias's.
        return self.relu(pooled.add_(self.conv.bias.view(1, -1, 1, 1)))


def _fold_children(module: nn.Module) -> None:
    for name, child in module.named_children():
        if isinstance(child, BasicConv2d):
            setattr(module, name, FoldedConv2d(fuse_conv_bn_eval(child.conv, child.bn)))
        else:
            _fold_children(child)


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """A copy of `model` (in eval mode) with every `BasicConv2d` folded into a `FoldedConv2d`.

    The model given is left as it was: its state dict keeps its keys (`conv`, `bn`), so it can
    still be saved, loaded and trained. The copy is for inference only: its BatchNorm statistics
    are baked into the weights, so training it would no longer normalise anything.
    """
    if any(module.training for module in model.modules()):
        raise ValueError(
            "fold_batchnorm needs a model in eval mode (BatchNorm must use its running "
            "statistics); call model.eval() first"
        )
    folded = copy.deepcopy(model)
    if isinstance(folded, BasicConv2d):
        return FoldedConv2d(fuse_conv_bn_eval(folded.conv, folded.bn))
    _fold_children(folded)
    return folded
