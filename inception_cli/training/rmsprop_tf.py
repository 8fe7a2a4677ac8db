"""RMSProp as TensorFlow computes it, the optimiser the paper trained with (section 4:
decay 0.9, epsilon 1.0).

`torch.optim.RMSprop` differs from TensorFlow's `RMSPropOptimizer` in three ways that matter
with the paper's epsilon of 1.0:

- epsilon goes inside the square root, `sqrt(v + eps)`, not outside, `sqrt(v) + eps`;
- the running average of squared gradients starts at 1, not 0;
- with momentum, the learning rate scales each update as it enters the momentum buffer, so a
  learning-rate decay slows the steps already accumulated only gradually.

Weight decay is added to the gradient (an L2 term in the loss, as TF-slim's regulariser).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

import torch
from torch.optim import Optimizer

__all__ = ["RMSpropTF"]


class RMSpropTF(Optimizer):
    """RMSProp with TensorFlow's update rule:

    g ← g + weight_decay · θ
    v ← alpha · v + (1 − alpha) · g²            (v starts at 1)
    m ← momentum · m + lr · g / sqrt(v + eps)   (m starts at 0)
    θ ← θ − m
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float = 0.045,
        alpha: float = 0.9,
        eps: float = 1.0,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
    ) -> None:
        for name, value in (
            ("lr", lr),
            ("eps", eps),
            ("momentum", momentum),
            ("weight_decay", weight_decay),
        ):
            if value < 0:
                raise ValueError(f"RMSpropTF: {name} must be >= 0, got {value}")
        if not 0 <= alpha < 1:
            raise ValueError(f"RMSpropTF: alpha (the decay) must be in [0, 1), got {alpha}")
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "momentum": momentum,
            "weight_decay": weight_decay,
        }
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if params:
                self._update(group, params)
        return loss

    def _update(self, group: dict[str, Any], params: list[torch.Tensor]) -> None:
        grads = [cast(torch.Tensor, p.grad) for p in params]  # step() passed only these
        if any(grad.is_sparse for grad in grads):
            raise RuntimeError("RMSpropTF does not support sparse gradients")
        if group["weight_decay"] != 0:
            grads = list(torch._foreach_add(grads, params, alpha=group["weight_decay"]))
        square_avgs, momentum_buffers = [], []
        for p in params:
            state = self.state[p]
            if not state:
                state["square_avg"] = torch.ones_like(p, memory_format=torch.preserve_format)
                state["momentum_buffer"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            square_avgs.append(state["square_avg"])
            momentum_buffers.append(state["momentum_buffer"])

        alpha, lr, momentum = group["alpha"], group["lr"], group["momentum"]
        torch._foreach_mul_(square_avgs, alpha)
        torch._foreach_addcmul_(square_avgs, grads, grads, value=1 - alpha)
        denominators = torch._foreach_add(square_avgs, group["eps"])
        torch._foreach_sqrt_(denominators)
        if momentum > 0:
            torch._foreach_mul_(momentum_buffers, momentum)
            torch._foreach_addcdiv_(momentum_buffers, grads, denominators, value=lr)
            torch._foreach_sub_(params, momentum_buffers)
        else:
            torch._foreach_addcdiv_(params, grads, denominators, value=-lr)
