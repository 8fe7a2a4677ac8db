"""Hand-written parts of training checked against the libraries that have the same thing.

- `training/rmsprop_tf.py` against `timm.optim.RMSpropTF`, step for step, with the recipe's
  hyper-parameters (conf/optimizer/rmsprop_tf.yaml) and the training module's parameter groups.
- `training/ema.py`, as `training/module.py` drives it, against `torch.optim.swa_utils`'s
  `AveragedModel` with `get_ema_multi_avg_fn`. Two differences are by design and checked as such:
  TensorFlow's decay ramp, min(decay, (1 + t) / (10 + t)) at update t, which the reference
  reproduces exactly when fed that decay step by step; and the average starting from the
  network's initial weights (TensorFlow's shadow variables), which for `AveragedModel` is one
  `update_parameters` before the first step (its first call copies).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from inception_cli.training.ema import ema_decay, update_ema
from inception_cli.training.module import InceptionClassifier
from inception_cli.training.optimizers import optimizer_arguments
from inception_cli.training.rmsprop_tf import RMSpropTF

CONF = Path(__file__).resolve().parents[1] / "conf"
STEPS = 12


class Toy(nn.Module):
    """Convolution, BatchNorm (running statistics and an integer count) and a classifier."""

    num_classes = 5

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 4 * 4, self.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.bn(self.conv(x))).flatten(1))


def batches(steps: int = STEPS) -> list[tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(1)
    return [
        (
            torch.randn(6, 3, 6, 6, generator=generator),
            torch.randint(0, 5, (6,), generator=generator),
        )
        for _ in range(steps)
    ]


def closure(
    model: nn.Module, optimizer: torch.optim.Optimizer, batch
) -> Callable[[], torch.Tensor]:
    def loss() -> torch.Tensor:
        optimizer.zero_grad()
        value = nn.functional.cross_entropy(model(batch[0]), batch[1])
        value.backward()
        return value

    return loss


def recipe_rmsprop_arguments() -> dict[str, float]:
    """The paper recipe's RMSProp hyper-parameters, as the training builds the optimizer."""
    arguments = OmegaConf.to_container(
        optimizer_arguments(OmegaConf.load(CONF / "optimizer" / "rmsprop_tf.yaml"))
    )
    assert isinstance(arguments, dict) and arguments.pop("_target_").endswith("RMSpropTF")
    arguments.pop("_partial_")
    return {str(key): float(value) for key, value in arguments.items()}


def decay_groups(model: nn.Module) -> list[dict]:
    """The parameter groups of InceptionClassifier.configure_optimizers."""
    return [
        {"params": [p for p in model.parameters() if p.ndim > 1]},
        {"params": [p for p in model.parameters() if p.ndim <= 1], "weight_decay": 0.0},
    ]


@pytest.mark.parametrize("momentum", ["recipe", 0.0])
def test_rmsprop_tf_is_timms_step_for_step(momentum: str | float) -> None:
    timm_optim = pytest.importorskip("timm.optim")
    settings = recipe_rmsprop_arguments()
    assert settings == {
        "lr": 0.045,
        "alpha": 0.9,
        "momentum": 0.9,
        "eps": 1.0,
        "weight_decay": 4e-5,
    }
    if momentum != "recipe":
        settings["momentum"] = float(momentum)
    module = InceptionClassifier(Toy(), optimizer=lambda groups: RMSpropTF(groups, **settings))
    ours = module.configure_optimizers()
    theirs_model = copy.deepcopy(module.model)
    # timm's defaults differ (eps 1e-10, no momentum): every hyper-parameter is passed.
    theirs = timm_optim.RMSpropTF(decay_groups(theirs_model), **settings)
    assert [len(g["params"]) for g in ours.param_groups] == [
        len(g["params"]) for g in theirs.param_groups
    ]

    for step, batch in enumerate(batches()):
        if step and step % 4 == 0:  # a learning-rate decay, which TF applies inside the momentum
            for group in (*ours.param_groups, *theirs.param_groups):
                group["lr"] *= 0.94
        ours.step(closure(module.model, ours, batch))
        theirs.step(closure(theirs_model, theirs, batch))
        for (name, mine), reference in zip(
            module.model.named_parameters(), theirs_model.parameters(), strict=True
        ):
            torch.testing.assert_close(
                mine, reference, rtol=1e-6, atol=1e-7, msg=f"step {step}: {name}"
            )
            torch.testing.assert_close(
                ours.state[mine]["square_avg"], theirs.state[reference]["square_avg"]
            )
    assert not torch.equal(module.model.conv.weight, Toy().conv.weight)  # the steps moved it


def primed_reference(model: nn.Module, multi_avg_fn: Callable) -> AveragedModel:
    """AveragedModel over BatchNorm's statistics too, starting from `model`'s weights now."""
    reference = AveragedModel(model, multi_avg_fn=multi_avg_fn, use_buffers=True)
    reference.update_parameters(model)  # the first call copies: TensorFlow's initial shadow
    return reference


def float_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v for k, v in model.state_dict().items() if v.is_floating_point()}


def test_ema_with_a_constant_decay_is_averaged_models_ema() -> None:
    """With the ramp left out (update_ema at one decay), ours is the library's average."""
    decay = 0.9
    model = Toy()
    ours = copy.deepcopy(model)
    reference = primed_reference(model, get_ema_multi_avg_fn(decay))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    for batch in batches():
        optimizer.step(closure(model, optimizer, batch))
        update_ema(ours, model, decay)
        reference.update_parameters(model)
        torch.testing.assert_close(float_state(ours), float_state(reference.module), rtol=0, atol=0)
    assert not torch.equal(ours.fc.weight, model.fc.weight)  # an average, not a copy
    # BatchNorm's batch count, an integer, is copied by ours; the library averages it as a float
    # and truncates it into the integer (0 here). BatchNorm reads it only without a momentum.
    assert int(ours.bn.num_batches_tracked) == int(model.bn.num_batches_tracked) == STEPS
    assert int(reference.module.bn.num_batches_tracked) < STEPS


def tensorflow_ramp(decay: float) -> Callable:
    """get_ema_multi_avg_fn fed TensorFlow's decay at each update t (the priming copy is n=1)."""

    def update(averages: list, current: list, n_averaged: torch.Tensor) -> None:
        t = int(n_averaged) - 1
        get_ema_multi_avg_fn(min(decay, (1 + t) / (10 + t)))(averages, current, n_averaged)

    return update


def test_the_modules_ema_differs_from_the_library_by_tensorflows_ramp_alone() -> None:
    """The training module's moving average (updated after each optimizer step) equals the
    library's fed TensorFlow's decay step by step, and differs from the library's at a constant
    decay: the ramp is the one difference."""
    decay = 0.99  # (1 + t) / (10 + t) stays below it for 880 updates: every step here ramps
    module = InceptionClassifier(
        Toy(), optimizer=lambda groups: torch.optim.SGD(groups, lr=0.5), ema_decay=decay
    )
    assert module.ema_model is not None
    ramped = primed_reference(module.model, tensorflow_ramp(decay))
    constant = primed_reference(module.model, get_ema_multi_avg_fn(decay))
    optimizer = torch.optim.SGD(module.model.parameters(), lr=0.5)
    for step, batch in enumerate(batches()):
        module.optimizer_step(0, step, optimizer, closure(module.model, optimizer, batch))
        ramped.update_parameters(module.model)
        constant.update_parameters(module.model)
        torch.testing.assert_close(
            float_state(module.ema_model), float_state(ramped.module), rtol=0, atol=0
        )
    assert int(module.ema_updates) == STEPS
    assert [ema_decay(decay, t) for t in (0, 1, 10**4)] == [0.1, 2 / 11, decay]
    # Without the ramp the average still sits near the initial weights.
    differences = [
        (float_state(module.ema_model)[k] - v).abs().max()
        for k, v in float_state(constant.module).items()
    ]
    assert max(differences) > 1e-2
