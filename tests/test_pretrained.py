"""Published weights: timm's state dicts load into our models and give the same logits."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from inception_cli import catalog
from inception_cli.errors import InputError
from inception_cli.models import create_model
from inception_cli.pretrained import (
    convert_timm_state_dict,
    create_pretrained,
    load_pretrained,
    pretrained_preprocessing,
)

timm = pytest.importorskip("timm")


def timm_reference(timm_name: str, seed: int = 0, **kwargs: object) -> torch.nn.Module:
    """timm's model with a fixed random init and BatchNorm statistics set from one batch, so that
    eval-mode activations stay in a sensible range (timm's v3 init alone makes logits ~1e14)."""
    torch.manual_seed(seed)
    model = timm.create_model(timm_name, pretrained=False, **kwargs)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = None  # cumulative average: one batch sets the statistics
            module.reset_running_stats()
    with torch.no_grad():
        model.train()(torch.randn(2, 3, 299, 299, generator=torch.Generator().manual_seed(seed)))
    return model.eval()


WITH_TIMM = [name for name, entry in catalog.CATALOG.items() if entry.timm_name]


# Our networks reorder some operations that commute (pooling and 1x1 convolutions, max pooling
# and ReLU), so in float32 they round differently from timm's (by about as much as timm's own
# float32 result differs from float64). In float64 only a different function could differ.
@pytest.mark.parametrize("name", WITH_TIMM)
def test_timm_state_dict_gives_same_logits(name: str) -> None:
    info = catalog.entry(name)
    assert info.timm_name is not None
    reference = timm_reference(info.timm_name).double()
    model = create_model(name).eval().double()
    model.load_state_dict(convert_timm_state_dict(name, reference.state_dict()), strict=True)

    x = torch.randn(2, 3, 299, 299, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected, actual = reference(x.double()), model(x.double())
        actual_float32 = model.float()(x)
    assert expected.abs().max() > 1e-3  # the comparisons below must not be between zeros
    assert (expected - actual).abs().max().item() < 1e-9
    assert (expected - actual_float32).abs().max().item() < 2e-3


@pytest.mark.parametrize("name", WITH_TIMM)
def test_training_step_matches_timm(name: str) -> None:
    """In training mode (BatchNorm on batch statistics) the loss, every gradient and every
    running statistic equal timm's: the reordered operations compute the same function."""
    info = catalog.entry(name)
    assert info.timm_name is not None
    torch.manual_seed(0)
    reference = timm.create_model(info.timm_name, pretrained=False, drop_rate=0.0)
    reference = reference.double().train()
    model = create_model(name, drop_rate=0.0).double().train()
    model.load_state_dict(convert_timm_state_dict(name, reference.state_dict()), strict=True)

    x = torch.randn(4, 3, 75, 75, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    losses = [net(x).logsumexp(1).sum() for net in (reference, model)]
    for loss in losses:
        loss.backward()
    assert abs(losses[0].item() - losses[1].item()) < 1e-9

    expected_grads = {key: p.grad for key, p in reference.named_parameters()}
    expected_grads = convert_timm_state_dict(name, expected_grads)  # type: ignore[arg-type]
    actual_grads = dict(model.named_parameters())
    assert set(expected_grads) == set(actual_grads)
    for key, grad in expected_grads.items():
        actual = actual_grads[key].grad
        assert grad is not None and actual is not None, key
        assert (grad - actual).abs().max().item() < 1e-9 * max(1.0, grad.abs().max().item()), key

    expected_state = convert_timm_state_dict(name, reference.state_dict())
    for key, value in model.state_dict().items():
        assert torch.allclose(value, expected_state[key], rtol=0, atol=1e-9), key


def test_v3_aux_head_matches_timm() -> None:
    reference = timm_reference("inception_v3", aux_logits=True)
    model = create_model("v3", aux_logits=True).eval()
    state_dict = convert_timm_state_dict("v3", reference.state_dict(), aux_logits=True)
    model.load_state_dict(state_dict, strict=True)
    features = torch.randn(2, 768, 17, 17, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected, actual = reference.AuxLogits(features), model.AuxLogits(features)
    assert (expected - actual).abs().max().item() < 1e-4


def test_convert_drops_aux_keys_unless_asked() -> None:
    state_dict = {"fc.weight": torch.zeros(1), "AuxLogits.fc.weight": torch.zeros(1)}
    assert set(convert_timm_state_dict("v3", state_dict)) == {"fc.weight"}
    assert set(convert_timm_state_dict("v3", state_dict, aux_logits=True)) == set(state_dict)


def test_convert_refuses_models_without_timm_counterpart() -> None:
    without = [name for name, e in sorted(catalog.CATALOG.items()) if e.timm_name is None]
    if not without:
        pytest.skip("every registered model has a timm counterpart")
    with pytest.raises(ValueError, match="no timm counterpart"):
        convert_timm_state_dict(without[0], {})


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Serve timm's 'hub download' from a state dict saved in tmp_path; no network."""
    import timm.models._builder as builder

    path = tmp_path / "weights.pth"
    requested: list[object] = []

    def load_state_dict_from_hf(location: object, *args: object, **kwargs: object) -> dict:
        requested.append(location)
        return torch.load(path, weights_only=True)

    monkeypatch.setattr(builder, "has_hf_hub", lambda *args, **kwargs: True)
    monkeypatch.setattr(builder, "load_state_dict_from_hf", load_state_dict_from_hf)
    return path, requested


def test_load_pretrained_reads_published_weights(fake_hub) -> None:
    path, requested = fake_hub
    published = timm_reference("inception_v3", seed=3).state_dict()
    torch.save(published, path)

    model = create_pretrained("v3", "timm:inception_v3.tf_in1k")

    assert requested == ["timm/inception_v3.tf_in1k"]
    ours = model.state_dict()
    assert set(ours) == set(published)
    for key, value in published.items():
        assert torch.equal(ours[key], value), key


def test_load_pretrained_short_tag_with_aux_head(fake_hub) -> None:
    path, _ = fake_hub
    published = timm_reference("inception_v3", seed=4, aux_logits=True).state_dict()
    torch.save(published, path)

    model = create_pretrained("v3", "timm:tv_in1k", aux_logits=True)

    assert torch.equal(model.AuxLogits.fc.weight, published["AuxLogits.fc.weight"])
    assert torch.equal(
        model.Mixed_7c.branch_pool.conv.weight, published["Mixed_7c.branch_pool.conv.weight"]
    )


def test_load_pretrained_other_class_count_keeps_classifier(fake_hub) -> None:
    path, _ = fake_hub
    published = timm_reference("inception_v3", seed=5).state_dict()
    torch.save(published, path)

    model = create_model("v3", num_classes=10)
    initial_fc = model.fc.weight.clone()
    with pytest.warns(UserWarning, match="classifier"):
        load_pretrained(model, "v3", "timm:inception_v3.tf_in1k")

    assert model.fc.weight.shape == (10, 2048)
    assert torch.equal(model.fc.weight, initial_fc)
    assert torch.equal(model.Conv2d_1a_3x3.conv.weight, published["Conv2d_1a_3x3.conv.weight"])
    assert torch.equal(
        model.Mixed_7c.branch_pool.bn.running_var, published["Mixed_7c.branch_pool.bn.running_var"]
    )


def test_load_pretrained_other_width_is_an_input_error(fake_hub) -> None:
    path, _ = fake_hub
    torch.save(timm_reference("inception_v3", seed=6).state_dict(), path)
    with pytest.raises(InputError, match="width 1.0"):
        create_pretrained("v3", "timm:inception_v3.tf_in1k", width=0.25)


@pytest.mark.parametrize(
    ("name", "weights", "message"),
    [
        ("v4", "inception_v4.tf_in1k", "timm:<tag>"),
        ("v4", "timm:", "timm:<tag>"),
        ("v4", "hub:inception_v4.tf_in1k", "timm:<tag>"),
        ("v4", "timm:inception_v4.nope", "choose one of: timm:inception_v4.tf_in1k"),
        ("v3", "timm:inception_v4.tf_in1k", "unknown weights"),
    ],
)
def test_bad_weight_specs(name: str, weights: str, message: str) -> None:
    model = torch.nn.Linear(1, 1)  # never reached: the spec is checked first
    with pytest.raises(InputError, match=message.replace(".", r"\.")):
        load_pretrained(model, name, weights)


def test_model_without_published_weights() -> None:
    without = [name for name, e in sorted(catalog.CATALOG.items()) if not e.pretrained_tags]
    if not without:
        pytest.skip("every registered model has published weights")
    with pytest.raises(InputError, match="no published weights"):
        load_pretrained(torch.nn.Linear(1, 1), without[0], "timm:tf_in1k")


def test_missing_timm_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "timm", None)  # makes `import timm` raise ImportError
    with pytest.raises(InputError, match=r"pip install 'inception-paper-lab\[timm\]'"):
        load_pretrained(torch.nn.Linear(1, 1), "v4", "timm:inception_v4.tf_in1k")


def test_pretrained_preprocessing() -> None:
    v4 = pretrained_preprocessing("timm:inception_v4.tf_in1k")
    assert v4 == {
        "input_size": 299,
        "crop_fraction": 0.875,
        "interpolation": "bicubic",
        "mean": (0.5, 0.5, 0.5),
        "std": (0.5, 0.5, 0.5),
    }
    assert pretrained_preprocessing("gluon_in1k", model="v3")["mean"] == pytest.approx(
        (0.485, 0.456, 0.406)
    )
    with pytest.raises(InputError, match="unknown published weights"):
        pretrained_preprocessing("inception_v4.nope")
