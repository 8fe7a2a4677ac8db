"""`inception export`: a run's network as timm weights, ONNX and TorchScript, each giving the
network's own logits when read back by the library that runs it, with where it came from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from support.user import assert_one_line_error, fingerprint, inception

from inception_cli.errors import InputError
from inception_cli.models import create_model
from inception_cli.tasks.export import run_export
from inception_cli.weights import export as export_module
from inception_cli.weights.export import check_format, to_timm_state_dict
from inception_cli.weights.pretrained import convert_timm_state_dict

SIZE, CLASSES = 75, 10


def fake_run(
    root: Path, model: str = "irv2", *, width: float = 0.1, checkpoint: bool = True, **model_args
) -> Path:
    """A finished run whose checkpoint holds raw weights and a different moving average."""
    run_dir = root / f"2026-01-01_00-00-00_{model}"
    (run_dir / ".hydra").mkdir(parents=True)
    model_cfg = {"name": model, "num_classes": CLASSES, "width": width, "in_chans": 3}
    model_cfg |= model_args
    data_cfg = {"name": "synthetic", "num_classes": CLASSES, "in_chans": 3, "input_size": SIZE}
    data_cfg |= {
        "mean": [0.5] * 3,
        "std": [0.5] * 3,
        "crop_fraction": 0.8,
        "interpolation": "bicubic",
    }
    (run_dir / ".hydra" / "config.yaml").write_text(
        yaml.safe_dump({"model": model_cfg, "data": data_cfg})
    )
    summary = {"status": "finished", "git_rev": "0123456789ab"}
    (run_dir / "summary.json").write_text(json.dumps(summary))
    if checkpoint:
        torch.manual_seed(0)
        network = create_model(**model_cfg)
        raw = network.state_dict()
        ema = {
            k: v + 0.01 * torch.randn_like(v) if v.is_floating_point() else v
            for k, v in raw.items()
        }
        state = {f"model.{k}": v for k, v in raw.items()} | {
            f"ema_model.{k}": v for k, v in ema.items()
        }
        (run_dir / "checkpoints").mkdir()
        torch.save(
            {"state_dict": state, "global_step": 42, "epoch": 3},
            run_dir / "checkpoints" / "best.ckpt",
        )
    return run_dir


def network(run_dir: Path, ema: bool = True) -> torch.nn.Module:
    """The run's network with its EMA (or raw) weights, built here apart from the export."""
    cfg = yaml.safe_load((run_dir / ".hydra" / "config.yaml").read_text())["model"]
    prefix = "ema_model." if ema else "model."
    state = torch.load(run_dir / "checkpoints" / "best.ckpt", weights_only=True)["state_dict"]
    model = create_model(**cfg)
    model.load_state_dict({k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)})
    return model.eval()


def relative(logits: torch.Tensor, reference: torch.Tensor) -> float:
    return float((logits - reference).abs().max() / reference.abs().max())


def images(batch: int = 5) -> torch.Tensor:
    return torch.randn(batch, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(7))


def assert_provenance(metadata: dict[str, str], weights: str = "ema") -> None:
    assert metadata["run_id"] == "2026-01-01_00-00-00_" + metadata["model"]
    assert (metadata["step"], metadata["epoch"], metadata["weights"]) == ("42", "3", weights)
    assert metadata["git_rev"] == "0123456789ab"
    assert metadata["checkpoint"] == "checkpoints/best.ckpt"


@pytest.mark.parametrize("model", ["v3", "irv1", "v4", "irv2", "irv2_paper"])
def test_onnx_gives_the_ema_networks_logits_for_any_batch(tmp_path: Path, model: str) -> None:
    onnx = pytest.importorskip("onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    extra = {"aux_logits": True} if model == "v3" else {}
    run_dir = fake_run(tmp_path, model, **extra)

    folder = run_export(run_dir, fmt="onnx")

    assert folder == run_dir / "export" / "onnx"
    assert sorted(p.name for p in folder.iterdir()) == ["model.onnx"]
    session = onnxruntime.InferenceSession(
        str(folder / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    (logits,) = session.run(["logits"], {"images": images(5).numpy()})  # exported with 2
    with torch.no_grad():
        reference = network(run_dir)(images(5))
    assert relative(torch.from_numpy(logits), reference) < 1e-4
    metadata = {p.key: p.value for p in onnx.load(str(folder / "model.onnx")).metadata_props}
    assert_provenance(metadata)


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
def test_torchscript_of_the_raw_weights_with_no_ema(tmp_path: Path) -> None:
    run_dir = fake_run(tmp_path, "v3", aux_logits=True)

    folder = run_export(run_dir, fmt="torchscript", ema=False)

    extra = {"inception.json": ""}
    loaded = torch.jit.load(str(folder / "model.pt"), _extra_files=extra)
    with torch.no_grad():
        logits, raw, ema = (
            loaded(images(4)),
            network(run_dir, ema=False)(images(4)),
            network(run_dir)(images(4)),
        )
    assert relative(logits, raw) < 1e-4
    assert relative(logits, ema) > 1e-3  # the raw weights, not the average
    assert_provenance(json.loads(extra["inception.json"]), weights="model")


def test_timm_loads_the_export_with_the_same_logits(tmp_path: Path) -> None:
    timm = pytest.importorskip("timm")
    from safetensors import safe_open

    run_dir = fake_run(tmp_path, "v3", width=1.0, aux_logits=True)

    folder = run_export(run_dir, fmt="timm")

    weights = str(folder / "model.safetensors")
    with torch.no_grad():
        reference = network(run_dir)(images(2))
        # As docs/models.md shows: the weights alone into the architecture, and the folder.
        alone = timm.create_model(
            "inception_v3",
            num_classes=CLASSES,
            pretrained=True,
            pretrained_cfg_overlay=dict(file=weights, num_classes=CLASSES),
        ).eval()
        assert relative(alone(images(2)), reference) < 1e-5
        folder_model = timm.create_model(f"local-dir:{folder}", pretrained=True).eval()
        assert relative(folder_model(images(2)), reference) < 1e-5
    config = json.loads((folder / "config.json").read_text())
    assert (config["architecture"], config["num_classes"]) == ("inception_v3", CLASSES)
    pretrained = config["pretrained_cfg"]
    assert pretrained["input_size"] == [3, SIZE, SIZE] and pretrained["crop_pct"] == 0.8
    assert pretrained["interpolation"] == "bicubic" and pretrained["mean"] == [0.5] * 3
    with safe_open(weights, "pt") as file:
        assert not any(key.startswith("AuxLogits.") for key in file.keys())  # noqa: SIM118
        assert_provenance(file.metadata())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "architecture"), [("v4", "inception_v4"), ("irv2", "inception_resnet_v2")]
)
def test_timm_loads_v4_and_irv2_exports(tmp_path: Path, model: str, architecture: str) -> None:
    timm = pytest.importorskip("timm")
    run_dir = fake_run(tmp_path, model, width=1.0)
    folder = run_export(run_dir, fmt="timm")
    overlay = dict(file=str(folder / "model.safetensors"), num_classes=CLASSES)
    theirs = timm.create_model(
        architecture, num_classes=CLASSES, pretrained=True, pretrained_cfg_overlay=overlay
    )
    with torch.no_grad():
        assert relative(theirs.eval()(images(2)), network(run_dir)(images(2))) < 1e-5


def test_timm_keys_are_ours_without_the_auxiliary_head() -> None:
    ours = create_model("v3", num_classes=CLASSES, width=0.1, aux_logits=True).state_dict()
    exported = to_timm_state_dict("v3", ours)
    assert set(exported) == {key for key in ours if not key.startswith("AuxLogits.")}
    assert convert_timm_state_dict("v3", exported).keys() == exported.keys()  # the inverse
    with pytest.raises(ValueError, match="no timm counterpart"):
        to_timm_state_dict("irv1", create_model("irv1", width=0.1).state_dict())


def test_an_earlier_export_is_never_replaced(tmp_path: Path, monkeypatch) -> None:
    def write_quickly(source, folder: Path, reference) -> float:  # where the files go is tested
        (folder / "model.pt").write_text(source.metadata["step"])
        return 0.0

    monkeypatch.setitem(export_module.WRITERS, "torchscript", write_quickly)
    run_dir = fake_run(tmp_path, "irv1")
    first = run_export(run_dir, fmt="torchscript")
    before = fingerprint(first)

    second = run_export(run_dir, fmt="torchscript")
    into = run_export(run_dir, fmt="torchscript", output=tmp_path)  # an existing folder
    new = run_export(run_dir, fmt="torchscript", output=tmp_path / "a" / "b")

    assert first == run_dir / "export" / "torchscript" and fingerprint(first) == before
    assert second == run_dir / "export" / "torchscript-1"
    assert into == tmp_path / "torchscript" and (into / "model.pt").read_text() == "42"
    assert new == tmp_path / "a" / "b" and (new / "model.pt").is_file()
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".partial")]


def test_an_export_that_does_not_match_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    run_dir = fake_run(tmp_path, "irv1")
    monkeypatch.setitem(export_module.TOLERANCE, "torchscript", -1.0)  # nothing can pass
    with pytest.raises(InputError, match="does not reproduce the network's logits"):
        run_export(run_dir, fmt="torchscript")
    assert not (run_dir / "export").exists()  # no folder, no hidden leftovers


def test_a_missing_onnxruntime_names_the_extra(monkeypatch) -> None:
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "onnxruntime" else find_spec(name, *a),
    )
    with pytest.raises(InputError) as refused:
        check_format("onnx")
    assert "pip install 'inception-paper-lab[onnx]'" in str(refused.value)


@pytest.mark.parametrize(
    ("setup", "args", "expected"),
    [
        (
            "run",
            ["--format", "keras"],
            "unknown format 'keras'; choose one of: timm, onnx, torchscript",
        ),
        ("none", ["--format", "onnx"], "is not a directory; give a run directory"),
        (
            "no checkpoint",
            ["--format", "onnx"],
            "has no checkpoints/best.ckpt or checkpoints/last.ckpt",
        ),
        ("irv1", ["--format", "timm"], "timm has no architecture for model 'irv1'"),
        (
            "run",
            ["--format", "timm"],
            "timm's inception_resnet_v2 has width 1 only, this run has width 0.1",
        ),
    ],
)
def test_export_mistakes_are_one_line(
    tmp_path: Path, setup: str, args: list[str], expected: str
) -> None:
    if setup == "none":
        run_dir = tmp_path / "runs" / "missing"
    elif setup == "irv1":
        run_dir = fake_run(tmp_path, "irv1", checkpoint=False)
    else:
        run_dir = fake_run(tmp_path, checkpoint=setup != "no checkpoint")
    before = sorted(tmp_path.rglob("*"))
    assert_one_line_error(inception(tmp_path, "export", str(run_dir), *args), expected)
    assert sorted(tmp_path.rglob("*")) == before  # nothing written, not even an empty folder
