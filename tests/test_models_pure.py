"""Inception-v3 and Inception-v4: parameter counts, shapes, forward and backward at any width."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from inception_cli import catalog
from inception_cli.models import create_model, list_models

NUM_CLASSES = 10
PURE_MODELS = sorted(catalog.PURE_MODELS)


@pytest.mark.parametrize(
    ("name", "kwargs", "expected"),
    [
        ("v3", {}, 23_834_568),
        ("v3", {"aux_logits": True}, 27_161_264),  # timm's inception_v3(aux_logits=True)
        ("v4", {}, 42_679_816),
    ],
)
def test_parameter_count_matches_timm(name: str, kwargs: dict, expected: int) -> None:
    with torch.device("meta"):
        model = create_model(name, num_classes=1000, **kwargs)
    assert sum(p.numel() for p in model.parameters()) == expected


def _case(name: str, aux: bool, training: bool, size: int, width: float, batch: int = 2) -> Any:
    mode = "train" if training else "eval"
    case_id = f"{name}{'-aux' if aux else ''}-{mode}-{size}px-w{width}-b{batch}"
    return pytest.param(name, aux, training, size, width, batch, id=case_id)


FORWARD_CASES = [
    _case("v3", False, True, 75, 1.0),
    _case("v3", False, False, 75, 1.0),
    _case("v3", False, True, 75, 0.25),
    _case("v3", False, False, 75, 0.25),
    _case("v3", False, True, 299, 0.25),
    _case("v3", False, False, 299, 1.0, batch=1),
    _case("v3", True, True, 75, 1.0),
    _case("v3", True, False, 75, 0.25),
    _case("v3", True, True, 299, 0.25),
    # The auxiliary head reduces to 1x1, so BatchNorm needs two images to train it.
    _case("v3", True, True, 299, 1.0),
    _case("v4", False, True, 75, 1.0),
    _case("v4", False, False, 75, 1.0),
    _case("v4", False, True, 75, 0.25),
    _case("v4", False, False, 299, 0.25),
    _case("v4", False, True, 299, 1.0, batch=1),
    _case("v4", False, False, 299, 1.0, batch=1),
]


@pytest.mark.parametrize(("name", "aux", "training", "size", "width", "batch"), FORWARD_CASES)
def test_forward_backward(
    name: str, aux: bool, training: bool, size: int, width: float, batch: int
) -> None:
    torch.manual_seed(0)
    kwargs = {"aux_logits": True} if aux else {}
    model = create_model(name, num_classes=NUM_CLASSES, width=width, **kwargs).train(training)
    x = torch.randn(batch, 3, size, size)

    if training:
        out = model(x)
        if aux:
            assert isinstance(out, tuple)
            logits, aux_logits = out
            assert aux_logits.shape == (batch, NUM_CLASSES)
            loss = logits.logsumexp(1).mean() + 0.4 * aux_logits.logsumexp(1).mean()
        else:
            assert isinstance(out, torch.Tensor)
            logits, loss = out, out.logsumexp(1).mean()
    else:
        # forward() is forward_features then forward_head; going through them checks both shapes.
        features = model.forward_features(x)
        side = 8 if size == 299 else 1  # 8x8 at 299 (Figs 9 and 6), 1x1 at the smallest input
        assert features.shape == (batch, model.num_features, side, side)
        pre_logits = model.forward_head(features, pre_logits=True)
        assert pre_logits.shape == (batch, model.num_features)
        logits = model.forward_head(features)
        loss = logits.logsumexp(1).mean()
        if aux:
            with torch.no_grad():
                assert isinstance(model(x), torch.Tensor)  # eval mode: logits alone
    assert logits.shape == (batch, NUM_CLASSES)
    assert torch.isfinite(logits).all()

    loss.backward()
    first_conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert first_conv.weight.grad is not None
    assert torch.isfinite(first_conv.weight.grad).all()
    assert first_conv.weight.grad.abs().sum() > 0
    if aux and training:
        assert model.AuxLogits.fc.weight.grad is not None


@pytest.mark.parametrize("name", ["v3", "v4"])
def test_width_sizes_classifier_from_branch_outputs(name: str) -> None:
    full = create_model(name, num_classes=NUM_CLASSES, in_chans=1, width=0.5)
    assert full.num_features == {"v3": 1024, "v4": 768}[name]
    classifier = full.fc if name == "v3" else full.last_linear
    assert classifier.in_features == full.num_features
    assert full(torch.randn(2, 1, 75, 75)).shape == (2, NUM_CLASSES)


@pytest.mark.parametrize("name", PURE_MODELS)
def test_model_attributes(name: str) -> None:
    model = create_model(name, num_classes=NUM_CLASSES, width=0.25)
    info = catalog.entry(name)
    assert model.num_classes == NUM_CLASSES
    assert model.residual is False and info.residual is False
    assert model.default_input_size == info.default_input_size == 299
    assert model.min_input_size == info.min_input_size == 75
    assert model.head_drop.p == pytest.approx(0.2)  # keep probability 0.8


@pytest.mark.parametrize("name", PURE_MODELS)
@pytest.mark.parametrize("width", [0.0, -0.5, float("nan"), float("inf")])
def test_bad_width_is_a_value_error(name: str, width: float) -> None:
    # The same check and message as the residual networks, so the CLI reports it in one line.
    with pytest.raises(ValueError, match="width must be a positive number"):
        create_model(name, width=width)


def test_unknown_model_lists_known_names() -> None:
    with pytest.raises(ValueError, match="v5") as err:
        create_model("v5")
    for name in list_models():
        assert name in str(err.value)
    assert "v3" in str(err.value) and "v4" in str(err.value)


def test_import_does_not_pull_heavy_packages(loaded_by_import) -> None:
    heavy = ("lightning", "pytorch_lightning", "timm", "wandb")
    assert loaded_by_import("inception_cli.models", heavy) == []


def test_only_a_pointwise_convolution_moves_across_a_pooling() -> None:
    from inception_cli.models.layers import BasicConv2d

    unit = BasicConv2d(4, 4, 3, padding=1)
    with pytest.raises(ValueError, match="1x1 convolution"):
        unit.after_avg_pool(torch.zeros(1, 4, 5, 5), torch.nn.AvgPool2d(3, 1, 1))
