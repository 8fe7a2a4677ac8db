"""The one FLOP counter of the tool: torch's FlopCounterMode, 2 FLOPs per multiply-add of
convolutions and matrix products (`inception models`, `inception bench`, training's MFU)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def logits_of(output: torch.Tensor | tuple[torch.Tensor, ...]) -> torch.Tensor:
    """The main logits of a network that may also return auxiliary ones."""
    return output[0] if isinstance(output, tuple) else output


def count_flops(model: nn.Module, images: torch.Tensor, *, train: bool = False) -> int:
    """FLOPs of one forward pass of `images` in eval mode, or with `train` of a forward and
    backward pass (cross-entropy on the main logits) in training mode. Images on the "meta"
    device count without computing anything (forward only)."""
    with FlopCounterMode(display=False) as counter:
        if train:
            labels = torch.zeros(images.shape[0], dtype=torch.long, device=images.device)
            F.cross_entropy(logits_of(model.train()(images)), labels).backward()
            model.zero_grad(set_to_none=True)
        else:
            with torch.no_grad():
                model.eval()(images)
    return int(counter.get_total_flops())
