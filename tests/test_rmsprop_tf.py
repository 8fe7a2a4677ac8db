"""RMSpropTF: TensorFlow's RMSProp update, checked against timm's port of the same rule."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from inception_cli.training.rmsprop_tf import RMSpropTF


def toy_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.LazyLinear(5))


def train(model: nn.Module, optimizer: torch.optim.Optimizer, steps: int) -> list[float]:
    generator = torch.Generator().manual_seed(1)
    losses = []
    for _ in range(steps):
        x = torch.randn(6, 3, 6, 6, generator=generator)
        y = torch.randint(0, 5, (6,), generator=generator)
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def param_groups(model: nn.Module) -> list[dict]:
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    return [{"params": decay}, {"params": no_decay, "weight_decay": 0.0}]


@pytest.mark.parametrize("momentum", [0.9, 0.0])
def test_matches_timm_rmsprop_tf(momentum: float) -> None:
    timm_optim = pytest.importorskip("timm.optim")
    ours, theirs = toy_model(), toy_model()
    train(ours, torch.optim.SGD(ours.parameters(), lr=0.0), 1)  # materialise the lazy layer
    theirs.load_state_dict(ours.state_dict())
    settings = {"lr": 0.05, "alpha": 0.9, "eps": 1.0, "momentum": momentum, "weight_decay": 4e-5}
    train(ours, RMSpropTF(param_groups(ours), **settings), 5)
    train(theirs, timm_optim.RMSpropTF(param_groups(theirs), **settings), 5)
    reference = theirs.state_dict()
    for key, mine in ours.state_dict().items():
        assert torch.allclose(mine, reference[key], rtol=1e-5, atol=1e-7), key
    assert not torch.equal(ours[0].weight, toy_model()[0].weight)  # the steps moved the weights


def test_first_step_uses_tensorflows_epsilon_and_initial_average() -> None:
    param = nn.Parameter(torch.zeros(1))
    optimizer = RMSpropTF([param], lr=1.0, alpha=0.9, eps=1.0, momentum=0.0)
    param.grad = torch.tensor([2.0])
    optimizer.step()
    # v = 0.9 * 1 + 0.1 * 4 = 1.3; step = 2 / sqrt(1.3 + 1). PyTorch's rule: 2 / (sqrt(0.4) + 1).
    assert param.item() == pytest.approx(-2.0 / (2.3**0.5))


def test_resumes_from_its_state_dict() -> None:
    model = toy_model()
    optimizer = RMSpropTF(model.parameters(), lr=0.01)
    train(model, optimizer, 3)
    resumed_model = copy.deepcopy(model)
    resumed = RMSpropTF(resumed_model.parameters(), lr=0.01)
    resumed.load_state_dict(copy.deepcopy(optimizer.state_dict()))
    assert train(model, optimizer, 2) == train(resumed_model, resumed, 2)


def test_refuses_bad_hyper_parameters() -> None:
    with pytest.raises(ValueError, match="alpha"):
        RMSpropTF([nn.Parameter(torch.zeros(1))], alpha=1.0)
    with pytest.raises(ValueError, match="lr"):
        RMSpropTF([nn.Parameter(torch.zeros(1))], lr=-1.0)
