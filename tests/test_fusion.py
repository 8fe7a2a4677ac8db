"""BatchNorm folded into the convolutions: the same logits, no BatchNorm left, the original
network untouched, and no folding of a network that is training."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from inception_cli.models import create_model, list_models
from inception_cli.models.fusion import FoldedConv2d, fold_batchnorm
from inception_cli.models.layers import BasicConv2d


def randomise_batchnorm(model: nn.Module, seed: int = 0) -> None:
    """Statistics and affine parameters far from their initial 0 and 1, so that a folding that
    dropped or misplaced any of them would change the logits."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                channels = module.num_features
                assert module.running_mean is not None and module.running_var is not None
                module.running_mean.copy_(torch.rand(channels, generator=generator) - 0.5)
                module.running_var.copy_(torch.rand(channels, generator=generator) * 1.5 + 0.5)
                module.weight.copy_(torch.rand(channels, generator=generator) + 0.5)
                module.bias.copy_(torch.rand(channels, generator=generator) - 0.5)


def tiny_model(name: str) -> nn.Module:
    torch.manual_seed(0)
    return create_model(name, num_classes=10, width=0.25)


def images() -> torch.Tensor:
    return torch.randn(2, 3, 75, 75, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("name", list_models())
def test_folded_model_gives_the_same_logits(name: str) -> None:
    model = tiny_model(name).eval()
    with torch.inference_mode():
        initial_statistics = model(images())
    randomise_batchnorm(model)
    folded = fold_batchnorm(model)
    with torch.inference_mode():
        expected, actual = model(images()), folded(images())
    # The random statistics reach the logits, so matching them checks the folded weights.
    assert (expected - initial_statistics).abs().max().item() > 1e-2
    assert (expected - actual).abs().max().item() < 1e-4


@pytest.mark.parametrize("name", list_models())
def test_folded_model_has_no_batchnorm_left(name: str) -> None:
    model = tiny_model(name).eval()
    basic_convs = sum(isinstance(m, BasicConv2d) for m in model.modules())
    folded = fold_batchnorm(model)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert not any(isinstance(m, BasicConv2d) for m in folded.modules())
    folded_convs = [m for m in folded.modules() if isinstance(m, FoldedConv2d)]
    assert len(folded_convs) == basic_convs > 0
    assert all(conv.conv.bias is not None for conv in folded_convs)


def test_training_model_is_refused() -> None:
    model = tiny_model("v4").train()
    with pytest.raises(ValueError, match="eval mode"):
        fold_batchnorm(model)


def test_model_with_one_block_still_training_is_refused() -> None:
    model = tiny_model("irv1").eval()
    model.get_submodule("blocks_a.0").train()
    with pytest.raises(ValueError, match="eval mode"):
        fold_batchnorm(model)


def test_original_model_is_unchanged() -> None:
    model = tiny_model("irv2").eval()
    randomise_batchnorm(model)
    before = {key: value.clone() for key, value in model.state_dict().items()}
    folded = fold_batchnorm(model)
    after = model.state_dict()
    assert list(after) == list(before)  # the keys (conv, bn) of published weights remain
    assert all(torch.equal(after[key], before[key]) for key in before)
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert folded is not model
    assert not set(folded.state_dict()) & {key for key in before if ".bn." in key}


def test_single_basic_conv_is_folded() -> None:
    layer = BasicConv2d(3, 8, 3, padding=1)
    randomise_batchnorm(layer)
    layer.eval()
    folded = fold_batchnorm(layer)
    assert isinstance(folded, FoldedConv2d)
    with torch.inference_mode():
        assert (layer(images()) - folded(images())).abs().max().item() < 1e-5


@pytest.mark.parametrize("name", list_models())
def test_features_stay_in_bfloat16_under_autocast(name: str) -> None:
    """A float32 bias or BatchNorm parameter added to a bf16 map must not promote the activations
    to float32: every later convolution would then cast them back, at the cost of a full pass."""
    model = tiny_model(name)
    folded = fold_batchnorm(model.eval())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert model.train().forward_features(images()).dtype == torch.bfloat16
        with torch.inference_mode():
            assert folded.forward_features(images()).dtype == torch.bfloat16
