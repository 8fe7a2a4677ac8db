"""Inception-ResNet-v1, Inception-ResNet-v2 (released) and Inception-ResNet-v2 (as printed)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from omegaconf import OmegaConf
from torch import nn

from inception_cli import catalog
from inception_cli.models import create_model
from inception_cli.weights.pretrained import convert_timm_state_dict

RESIDUAL_MODELS = sorted(catalog.RESIDUAL_MODELS)

# 1000 classes, width 1, BatchNorm with scale and shift.
PARAM_COUNTS = {
    "irv1": 22_756_328,  # paper-exact 5/10/5 blocks
    "irv2": 55_843_464,  # the released TF-slim network, equal to timm's inception_resnet_v2
    "irv2_paper": 32_433_928,  # the paper's figures, self-consistent reading (docs/models.md)
}
NUM_FEATURES = {"irv1": 1792, "irv2": 1536, "irv2_paper": 2144}
FEATURE_SIZE = {75: 1, 299: 8}


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", RESIDUAL_MODELS)
def test_param_count_and_attributes(name: str) -> None:
    model: Any = create_model(name)
    assert count_params(model) == PARAM_COUNTS[name]
    assert model.num_features == NUM_FEATURES[name]
    assert model.num_classes == 1000
    assert model.residual is True
    assert (model.default_input_size, model.min_input_size) == (299, 75)
    info = catalog.entry(name)
    assert info.residual is True
    assert (info.default_input_size, info.min_input_size) == (299, 75)


def test_residual_projection_is_linear_with_bias() -> None:
    model: Any = create_model("irv1", width=0.25)
    for stage in (model.blocks_a, model.blocks_b, model.blocks_c):
        for block in stage:
            assert isinstance(block.conv2d, nn.Conv2d)
            assert block.conv2d.bias is not None
            # the projection maps back onto the block's input channels
            assert block.conv2d.out_channels == block.branch0.conv.in_channels


def test_released_last_block_is_unscaled_and_linear() -> None:
    model: Any = create_model("irv2", width=0.25, residual_scale=0.3)
    assert model.block8.scale == 1.0
    assert isinstance(model.block8.relu, nn.Identity)
    assert all(block.scale == 0.3 for block in model.repeat_2)


@pytest.mark.parametrize("name", RESIDUAL_MODELS)
@pytest.mark.parametrize(
    ("size", "width", "batch"),
    [
        (75, 0.25, 2),
        (299, 0.25, 2),
        (75, 1.0, 2),
        (299, 1.0, 1),
    ],
)
def test_forward_backward(name: str, size: int, width: float, batch: int) -> None:
    torch.manual_seed(0)
    model: Any = create_model(name, num_classes=7, width=width)
    x = torch.randn(batch, 3, size, size)
    spatial = FEATURE_SIZE[size]

    model.train()
    features = model.forward_features(x)
    assert features.shape == (batch, model.num_features, spatial, spatial)
    logits = model.forward_head(features)
    assert logits.shape == (batch, 7)
    logits.logsumexp(1).sum().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    first_conv = next(model.parameters())
    assert first_conv.grad is not None and first_conv.grad.abs().sum() > 0  # reaches the input

    model.eval()
    with torch.no_grad():
        out = model(x)
        assert out.shape == (batch, 7)
        assert torch.isfinite(out).all()
        assert torch.equal(out, model(x))  # dropout is off in eval mode
        assert model.forward_head(model.forward_features(x), pre_logits=True).shape == (
            batch,
            model.num_features,
        )


@pytest.mark.parametrize("name", RESIDUAL_MODELS)
def test_in_chans_and_drop_rate(name: str) -> None:
    model: Any = create_model(name, num_classes=3, width=0.1, in_chans=1, drop_rate=0.5).eval()
    assert model.head_drop.p == 0.5
    with torch.no_grad():
        assert model(torch.randn(2, 1, 75, 75)).shape == (2, 3)


def logits_with_scale(name: str, residual_scale: float | tuple[float, ...]) -> torch.Tensor:
    torch.manual_seed(0)
    model = create_model(name, num_classes=5, width=0.25, residual_scale=residual_scale).eval()
    # Non-zero BN shifts make every block's branch matter for the output.
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.bias.normal_(0.0, 0.5)
        return model(torch.randn(2, 3, 75, 75, generator=torch.Generator().manual_seed(1)))


@pytest.mark.parametrize("name", RESIDUAL_MODELS)
def test_residual_scale_float_and_per_stage(name: str) -> None:
    uniform = logits_with_scale(name, 0.1)
    assert torch.equal(uniform, logits_with_scale(name, (0.1, 0.1, 0.1)))
    for per_stage in [(0.3, 0.1, 0.1), (0.1, 0.3, 0.1), (0.1, 0.1, 0.3)]:
        assert not torch.allclose(uniform, logits_with_scale(name, per_stage))


def test_residual_scale_from_config_list() -> None:
    model: Any = create_model("irv1", width=0.1, residual_scale=OmegaConf.create([0.1, 0.2, 0.3]))
    scales = [model.blocks_a[0].scale, model.blocks_b[0].scale, model.blocks_c[0].scale]
    assert scales == [0.1, 0.2, 0.3]


@pytest.mark.parametrize(
    "bad",
    [(0.1, 0.2), (0.1, 0.2, 0.3, 0.4), 0.0, -0.1, (0.1, float("nan"), 0.2), "0.1", ("a", 1, 2)],
)
def test_residual_scale_rejects_bad_values(bad: Any) -> None:
    with pytest.raises(ValueError, match="residual_scale"):
        create_model("irv1", width=0.1, residual_scale=bad)


def test_width_must_be_positive() -> None:
    with pytest.raises(ValueError, match="width"):
        create_model("irv2", width=0.0)


def test_irv2_catalog_names_timm_weights() -> None:
    timm = pytest.importorskip("timm")
    info = catalog.entry("irv2")
    assert info.timm_name == "inception_resnet_v2"
    assert "inception_resnet_v2.tf_in1k" in info.pretrained_tags
    assert set(info.pretrained_tags) <= set(timm.list_pretrained("inception_resnet_v2*"))
    assert catalog.entry("irv1").pretrained_tags == ()
    assert catalog.entry("irv2_paper").pretrained_tags == ()


def test_irv2_matches_timm_inception_resnet_v2() -> None:
    timm = pytest.importorskip("timm")
    torch.manual_seed(0)
    reference = timm.create_model("inception_resnet_v2", pretrained=False).eval()
    generator = torch.Generator().manual_seed(1)
    # Random BN statistics and affine terms, so that a key loaded into the wrong layer shows.
    with torch.no_grad():
        for module in reference.modules():
            if isinstance(module, nn.BatchNorm2d):
                assert module.running_mean is not None and module.running_var is not None
                shape = module.running_mean.shape
                module.running_mean.copy_(0.1 * torch.randn(shape, generator=generator))
                module.running_var.copy_(0.5 + torch.rand(shape, generator=generator))
                module.weight.copy_(0.5 + torch.rand(shape, generator=generator))
                module.bias.copy_(0.1 * torch.randn(shape, generator=generator))

    ours = create_model("irv2").eval()
    state_dict = convert_timm_state_dict("irv2", reference.state_dict())
    assert list(state_dict) == list(ours.state_dict())
    ours.load_state_dict(state_dict, strict=True)

    x = torch.randn(2, 3, 299, 299, generator=generator)
    with torch.no_grad():
        expected = reference(x)
        actual = ours(x)
    assert actual.shape == (2, 1000)
    assert expected.abs().max() > 1e-2  # the comparison below is not between two near-zero outputs
    assert (actual - expected).abs().max() < 1e-4


def test_scaled_conv_scales_the_output_through_the_weights() -> None:
    from inception_cli.models.layers import scaled_conv

    torch.manual_seed(0)
    conv = nn.Conv2d(4, 3, 3, stride=2, padding=1).double()
    x = torch.randn(2, 4, 9, 9, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(scaled_conv(x, conv, 0.17), 0.17 * conv(x), atol=1e-12)
    assert conv.weight.grad is None  # the layer's own parameters are left as they were
