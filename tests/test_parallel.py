"""Sibling 1x1 layers stacked into one convolution compute what they compute one by one."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from inception_cli.models.fusion import fold_batchnorm
from inception_cli.models.layers import BasicConv2d
from inception_cli.models.parallel import parallel_pointwise, stackable


def siblings(*out_chs: int, in_chs: int = 6) -> nn.ModuleList:
    torch.manual_seed(0)
    units = nn.ModuleList(BasicConv2d(in_chs, c, 1) for c in out_chs).double()
    with torch.no_grad():  # distinct affine terms and statistics per layer
        for unit in units:
            unit.bn.weight.uniform_(0.5, 1.5)
            unit.bn.bias.normal_()
            unit.bn.running_mean.normal_()
            unit.bn.running_var.uniform_(0.5, 2.0)
    return units


def image(in_chs: int = 6) -> torch.Tensor:
    generator = torch.Generator().manual_seed(1)
    return torch.randn(3, in_chs, 5, 5, dtype=torch.float64, generator=generator)


def test_training_matches_layer_by_layer() -> None:
    stacked = siblings(2, 3, 4).train()
    alone = copy.deepcopy(stacked)
    x = image()

    outs = parallel_pointwise(x, list(stacked))
    expected = [unit(x) for unit in alone]
    assert [out.shape[1] for out in outs] == [2, 3, 4]
    for out, ref in zip(outs, expected, strict=True):
        assert torch.allclose(out, ref, atol=1e-12)

    weights = torch.arange(1.0, 10.0, dtype=torch.float64).view(1, 9, 1, 1)
    (torch.cat(outs, 1) * weights).sum().backward()
    (torch.cat(expected, 1) * weights).sum().backward()
    for (key, param), ref in zip(stacked.named_parameters(), alone.parameters(), strict=True):
        assert param.grad is not None and ref.grad is not None, key
        assert torch.allclose(param.grad, ref.grad, atol=1e-12), key
    for (key, buffer), ref in zip(stacked.named_buffers(), alone.buffers(), strict=True):
        assert torch.equal(buffer, ref), key  # running statistics and batch counts


def test_eval_uses_each_layers_running_statistics() -> None:
    units = siblings(2, 3).eval()
    x = image()
    with torch.no_grad():
        outs = parallel_pointwise(x, list(units))
        for out, unit in zip(outs, units, strict=True):
            assert torch.allclose(out, unit(x), atol=1e-12)


def test_folded_layers_stack_with_their_biases() -> None:
    units = [fold_batchnorm(unit) for unit in siblings(2, 3).eval()]
    x = image()
    with torch.no_grad():
        for out, unit in zip(parallel_pointwise(x, units), units, strict=True):
            assert torch.allclose(out, unit(x), atol=1e-12)


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda units: setattr(units[1].bn, "momentum", None), id="cumulative-bn"),
        pytest.param(lambda units: setattr(units[1].bn, "eps", 1e-5), id="other-eps"),
        pytest.param(lambda units: units[0].bn.eval(), id="mixed-modes"),
    ],
)
def test_layers_that_cannot_stack_run_one_by_one(spoil) -> None:
    units = siblings(2, 3).train()
    spoil(units)
    assert not stackable(list(units))
    alone = copy.deepcopy(units)
    x = image()
    for out, unit in zip(parallel_pointwise(x, list(units)), alone, strict=True):
        assert torch.allclose(out, unit(x), atol=1e-12)
    for buffer, ref in zip(units.buffers(), alone.buffers(), strict=True):
        assert torch.equal(buffer, ref)


def test_sync_batchnorm_is_never_stacked() -> None:
    units = siblings(2, 3)
    units[1].bn = nn.SyncBatchNorm(3).double()  # must see every rank's batch, so never bypassed
    assert not stackable(list(units.train()))
    assert not stackable(list(units.eval()))


def test_only_pointwise_layers_on_one_input_stack() -> None:
    assert stackable([BasicConv2d(6, 2, 1), BasicConv2d(6, 3, 1)])
    assert not stackable([BasicConv2d(6, 2, 1), BasicConv2d(6, 3, 3, padding=1)])
    assert not stackable([BasicConv2d(6, 2, 1), BasicConv2d(5, 3, 1)])
