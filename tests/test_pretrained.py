"""Published weights: timm's state dicts load into our models and give the same logits."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from inception_cli import catalog
from inception_cli.errors import InputError
from inception_cli.models import create_model
from inception_cli.weights.pretrained import (
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
    """Serve the hub download from a state dict saved in tmp_path; no network."""
    import inception_cli.weights.pretrained as pretrained

    path = tmp_path / "weights.pth"
    requested: list[object] = []

    def download(repo: str) -> str:
        requested.append(repo)
        return str(path)

    monkeypatch.setattr(pretrained, "_cached_file", lambda repo: None)
    monkeypatch.setattr(pretrained, "_check_hub_reachable", lambda tag: None)
    monkeypatch.setattr(pretrained, "_download", download)
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


# ------------------------------------------------------------------- published weights offline


def refuse_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record any attempt to reach the hub or download, and fail it as no network would."""
    import socket

    import inception_cli.weights.pretrained as pretrained

    attempts: list[str] = []

    def connect(address: tuple[str, int], timeout: float | None = None) -> socket.socket:
        attempts.append(f"connect {address[0]} timeout {timeout}")
        raise OSError(-2, "Name or service not known")

    def download(repo: str) -> str:
        attempts.append(f"download {repo}")
        raise AssertionError("no download may be attempted")

    monkeypatch.setattr(socket, "create_connection", connect)
    monkeypatch.setattr(pretrained, "_download", download)
    monkeypatch.setattr(pretrained, "_cached_file", lambda repo: None)
    return attempts


def test_cached_weights_are_read_without_the_network(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import inception_cli.weights.pretrained as pretrained

    attempts = refuse_network(monkeypatch)
    published = timm_reference("inception_v3", seed=7).state_dict()
    torch.save(published, tmp_path / "cached.pth")
    monkeypatch.setattr(pretrained, "_cached_file", lambda repo: str(tmp_path / "cached.pth"))
    model = create_pretrained("v3", "timm:inception_v3.tf_in1k")
    assert attempts == []
    assert torch.equal(model.fc.weight, published["fc.weight"])


def test_offline_without_the_weights_cached_is_one_line_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from huggingface_hub import constants

    attempts = refuse_network(monkeypatch)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(InputError, match="not in the local Hugging Face cache and HF_HUB_OFFLINE"):
        create_pretrained("irv2", "timm:inception_resnet_v2.tf_in1k")
    assert attempts == []


def test_an_unreachable_hub_is_one_short_try_without_download(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from huggingface_hub import constants

    from inception_cli.weights.pretrained import HUB_TIMEOUT_S

    attempts = refuse_network(monkeypatch)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    with pytest.raises(InputError, match="huggingface.co cannot be reached") as raised:
        create_pretrained("irv2", "timm:inception_resnet_v2.tf_in1k")
    assert attempts == [f"connect huggingface.co timeout {HUB_TIMEOUT_S}"]
    assert HUB_TIMEOUT_S <= 3 and "\n" not in str(raised.value)


@pytest.mark.parametrize("data", ["missing", "empty"])
def test_data_is_checked_before_published_weights_are_fetched(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data: str
) -> None:
    from inception_cli.tasks.evaluate import run_eval

    monkeypatch.chdir(tmp_path)
    attempts = refuse_network(monkeypatch)
    folder = tmp_path / "imagenet"
    if data == "empty":
        folder.mkdir()
    with pytest.raises(InputError, match="--data"):
        run_eval(["model=irv2", "weights=timm:inception_resnet_v2.tf_in1k"], data=str(folder))
    assert attempts == []
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*.json"))


def test_eval_of_published_weights_offline_fails_within_seconds(tmp_path: Path) -> None:
    """The real command, with no network and an empty cache: one line, and no more than a few
    seconds beyond what starting Python with torch and timm takes on this machine."""
    import os
    import subprocess
    import time

    from tests.support.user import assert_one_line_error

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    (tmp_path / "val").mkdir()
    (tmp_path / "val" / "ILSVRC2012_val_00000001.JPEG").write_bytes(b"")
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import torch, timm"], env=env, check=True)
    startup = time.monotonic() - started
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "inception_cli", "eval", "model=irv2"]
        + ["weights=timm:inception_resnet_v2.tf_in1k", "--data", str(tmp_path / "val")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    seconds = time.monotonic() - started
    assert_one_line_error(done, "not in the local Hugging Face cache and HF_HUB_OFFLINE is set")
    assert seconds < startup + 5, f"{seconds:.1f} s (Python with torch and timm: {startup:.1f} s)"
