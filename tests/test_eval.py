"""`inception eval`: ensembles, the validation blacklist, unreadable images, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from rich.console import Console
from torch import nn
from torchvision.io import encode_jpeg
from typer.testing import CliRunner

from inception_cli.cli import app
from inception_cli.data.imagenet_val import open_imagenet_val, read_blacklist
from inception_cli.models import create_model
from inception_cli.tasks.evaluate import Member, Preprocessing, evaluate_members, run_eval

QUIET = Console(quiet=True)


# ----------------------------------------------------------------------------- ensembles


class FixedPredictions(nn.Module):
    """Returns stored class probabilities for image i, recognised by its constant pixel value."""

    def __init__(self, probabilities: list[list[float]]) -> None:
        super().__init__()
        self.register_buffer("log_probs", torch.tensor(probabilities).clamp_min(1e-9).log())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        image_index = (x.mean(dim=(1, 2, 3)) * 10).round().long() - 1
        return self.log_probs[image_index]


def constant_images(
    count: int, label: int, *, same_size: bool = True
) -> list[tuple[torch.Tensor, int]]:
    """Image i has the value (i + 1) / 10 everywhere; of 12 x 16 pixels, or of sizes that differ."""
    sizes = [(12, 16) if same_size else (12 + 2 * i, 16 - i) for i in range(count)]
    return [(torch.full((1, *size), (i + 1) / 10), label) for i, size in enumerate(sizes)]


def stand_in(name: str, probabilities: list[list[float]]) -> Member:
    identity = Preprocessing(8, 1.0, "bilinear", mean=(0.0,), std=(1.0,))
    return Member(name, FixedPredictions(probabilities), identity, num_classes=3, in_chans=1)


@pytest.mark.parametrize("same_size", [True, False], ids=["same size", "sizes differ"])
@pytest.mark.parametrize("crops", [1, 10])
def test_ensemble_averages_probabilities_of_its_members(crops: int, same_size: bool) -> None:
    # Every image is of class 0. Each member is wrong on three images; the average of their
    # probabilities is wrong on the last one only.
    first = stand_in("a", [[0.45, 0.55, 0.0], [0.9, 0.1, 0.0], [0.4, 0.6, 0.0], [0.2, 0.8, 0.0]])
    second = stand_in("b", [[0.45, 0.0, 0.55], [0.4, 0.6, 0.0], [0.9, 0.0, 0.1], [0.3, 0.7, 0.0]])
    scores = evaluate_members(
        [first, second],
        constant_images(4, label=0, same_size=same_size),  # type: ignore[arg-type]
        crops=crops,
        batch_size=20,
        console=QUIET,
        show_progress=False,
    )
    assert scores.images == 4
    assert scores.member_errors[0][0] == pytest.approx(75.0)
    assert scores.member_errors[1][0] == pytest.approx(75.0)
    assert scores.ensemble_errors[0] == pytest.approx(25.0)
    assert scores.ensemble_errors[1] == pytest.approx(0.0)  # top-5 of 3 classes: all correct
    assert 0.0 < scores.forward_time_s <= scores.wall_time_s


# ----------------------------------------------------------------------------- ImageNet folders


def write_jpeg(path: Path, value: int) -> None:
    image = torch.full((3, 20, 28), value, dtype=torch.uint8)
    path.write_bytes(encode_jpeg(image).numpy().tobytes())


def flat_val_folder(root: Path, labels: list[int], corrupt: tuple[int, ...] = ()) -> Path:
    """ILSVRC2012_val_0000000i.JPEG for i = 1 ... len(labels), with labels.txt beside them."""
    folder = root / "val"
    folder.mkdir(parents=True)
    for index in range(1, len(labels) + 1):
        path = folder / f"ILSVRC2012_val_{index:08d}.JPEG"
        if index in corrupt:
            path.write_bytes(b"\xff\xd8 this is not a jpeg")
        else:
            write_jpeg(path, 40 * index)
    (folder / "labels.txt").write_text("".join(f"{label}\n" for label in labels))
    return folder


def test_blacklist_leaves_out_listed_images(tmp_path: Path) -> None:
    folder = flat_val_folder(tmp_path, labels=[0, 1, 2, 3, 4, 5])
    blacklist = tmp_path / "blacklist.txt"
    blacklist.write_text("2\n5\n50000\n")
    dataset = open_imagenet_val(folder)
    kept, excluded = dataset.without(read_blacklist(blacklist))
    assert excluded == 2
    assert [item.index for item in kept.images] == [1, 3, 4, 6]
    assert [item.label for item in kept.images] == [0, 2, 3, 5]
    image, label = kept[0]
    assert image is not None and image.shape == (3, 20, 28) and label == 0


def test_devkit_ground_truth_maps_to_sorted_wnid_order(tmp_path: Path) -> None:
    folder = tmp_path / "val"
    folder.mkdir()
    for index in (1, 2, 3):
        write_jpeg(folder / f"ILSVRC2012_val_{index:08d}.JPEG", 100)
    # ILSVRC2012_ID 1 is n03, 2 is n01, 3 is n02: sorted-wnid indices 2, 0, 1.
    (tmp_path / "wnids.txt").write_text("n03\nn01\nn02\n")
    (tmp_path / "ILSVRC2012_validation_ground_truth.txt").write_text("1\n2\n3\n")
    dataset = open_imagenet_val(tmp_path)
    assert [item.label for item in dataset.images] == [2, 0, 1]
    assert dataset.num_classes == 3


def test_class_folder_layout_takes_sorted_folders_as_classes(tmp_path: Path) -> None:
    for wnid, index in (("n02", 1), ("n01", 2)):
        (tmp_path / "val" / wnid).mkdir(parents=True)
        write_jpeg(tmp_path / "val" / wnid / f"ILSVRC2012_val_{index:08d}.JPEG", 100)
    dataset = open_imagenet_val(tmp_path)
    assert [(item.index, item.label) for item in dataset.images] == [(2, 0), (1, 1)]


def test_unreadable_image_yields_none(tmp_path: Path) -> None:
    dataset = open_imagenet_val(flat_val_folder(tmp_path, labels=[0, 1], corrupt=(2,)))
    assert dataset[0][0] is not None
    assert dataset[1] == (None, 1)


# ----------------------------------------------------------------------------- run directories


def fake_run(
    root: Path,
    name: str = "2026-01-01_00-00-00_irv1",
    *,
    num_classes: int = 10,
    in_chans: int = 1,
    checkpoint: bool = True,
    ema: bool = True,
    status: str = "finished",
    data: dict[str, object] | None = None,
) -> Path:
    run_dir = root / name
    (run_dir / ".hydra").mkdir(parents=True)
    model_cfg = {"name": "irv1", "num_classes": num_classes, "width": 0.1, "in_chans": in_chans}
    data_cfg = {
        "name": "synthetic",
        "root": None,
        "num_classes": num_classes,
        "in_chans": in_chans,
        "input_size": 75,
        "mean": [0.5] * in_chans,
        "std": [0.5] * in_chans,
        "crop_fraction": 0.875,
        "interpolation": "bilinear",
        "num_train": 4,
        "num_val": 3,
        "num_workers": 0,
        **(data or {}),
    }
    (run_dir / ".hydra" / "config.yaml").write_text(
        yaml.safe_dump({"model": model_cfg, "data": data_cfg})
    )
    (run_dir / "summary.json").write_text(
        json.dumps({"status": status, "updated_at": "2026-01-01T00:00:00"})
    )
    if checkpoint:
        (run_dir / "checkpoints").mkdir()
        weights = create_model(**model_cfg).state_dict()
        state = {f"model.{key}": value for key, value in weights.items()}
        if ema:
            state |= {f"ema_model.{key}": value for key, value in weights.items()}
        torch.save({"state_dict": state}, run_dir / "checkpoints" / "last.ckpt")
    return run_dir


EVAL_OPTIONS = dict(
    crops=1, data=None, split="val", exclude_blacklist=None, batch_size=4, ema=True, output=None
)


def test_run_dir_on_its_own_data_writes_result_without_overwriting(tmp_path: Path) -> None:
    run_dir = fake_run(tmp_path)
    record = run_eval([str(run_dir)], **EVAL_OPTIONS, limit=None)  # type: ignore[arg-type]
    assert record["images"]["evaluated"] == 3
    assert record["members"][0]["weights"] == "ema"
    assert record["members"][0]["checkpoint"].endswith("last.ckpt")
    assert 0.0 <= record["top1_error"] <= 100.0
    run_eval([str(run_dir)], **EVAL_OPTIONS, limit=2)  # type: ignore[arg-type]
    first = json.loads((run_dir / "eval" / "1crop.json").read_text())
    second = json.loads((run_dir / "eval" / "1crop-1.json").read_text())
    assert first["images"]["evaluated"] == 3 and second["images"]["evaluated"] == 2


def test_without_ema_weights_the_raw_weights_are_used(tmp_path: Path) -> None:
    run_dir = fake_run(tmp_path, ema=False)
    record = run_eval([str(run_dir)], **EVAL_OPTIONS, limit=1)  # type: ignore[arg-type]
    assert record["members"][0]["weights"] == "model"


def test_no_argument_picks_latest_finished_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    fake_run(tmp_path / "runs", "2026-01-01_00-00-00_irv1")
    unfinished = fake_run(tmp_path / "runs" / "sweep", "1_irv1", status="running")
    (unfinished / "summary.json").write_text(
        json.dumps({"status": "running", "updated_at": "2027-01-01T00:00:00"})
    )
    record = run_eval([], **EVAL_OPTIONS, limit=1)  # type: ignore[arg-type]
    assert record["members"][0]["run_dir"] == str(Path("runs/2026-01-01_00-00-00_irv1"))


def test_folder_with_blacklist_and_unreadable_image(tmp_path: Path) -> None:
    run_dir = fake_run(tmp_path, num_classes=10, in_chans=3)
    folder = flat_val_folder(tmp_path / "imagenet", labels=[0, 1, 2, 3, 4, 5], corrupt=(3,))
    blacklist = tmp_path / "blacklist.txt"
    blacklist.write_text("2\n5\n")
    output = tmp_path / "result.json"
    output.write_text("an earlier result\n")
    options = EVAL_OPTIONS | dict(data=str(folder), exclude_blacklist=blacklist, output=output)
    record = run_eval([str(run_dir)], **options, limit=None)  # type: ignore[arg-type]
    counts = {key: record["images"][key] for key in ("evaluated", "excluded_blacklist", "corrupt")}
    assert counts == {"evaluated": 3, "excluded_blacklist": 2, "corrupt": 1}
    assert len(record["images"]["labels_sha256"]) == 64
    assert record["data"]["layout"] == "flat"
    assert output.read_text() == "an earlier result\n"
    assert json.loads((tmp_path / "result-1.json").read_text())["images"]["corrupt"] == 1


def test_run_trained_on_imagenet_folders_is_evaluated_on_its_validation_folder(
    tmp_path: Path,
) -> None:
    folder = flat_val_folder(tmp_path / "imagenet", labels=[0, 1, 2, 3, 4, 5])
    imagenet = {"name": "imagenet", "root": str(tmp_path / "imagenet")}
    run_dir = fake_run(tmp_path, in_chans=3, data=imagenet)
    record = run_eval([str(run_dir)], **EVAL_OPTIONS, limit=None)  # type: ignore[arg-type]
    assert record["images"]["evaluated"] == 6
    assert record["data"] == {
        "name": "imagenet",
        "root": str(folder),
        "split": "val",
        "layout": "flat",
    }


# ----------------------------------------------------------------------------- the CLI


def assert_input_error(arguments: list[str], expected: str) -> None:
    result = CliRunner().invoke(app, ["eval", *arguments])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert "Traceback" not in result.output


def test_cli_unknown_crop_count(tmp_path: Path) -> None:
    assert_input_error([str(fake_run(tmp_path)), "--crops", "12"], "use one of 1, 10, 144")


def test_cli_run_without_checkpoint(tmp_path: Path) -> None:
    run_dir = fake_run(tmp_path, checkpoint=False)
    assert_input_error([str(run_dir)], f"{run_dir} has no checkpoints/best.ckpt")


def test_cli_run_on_imagenet_without_a_root(tmp_path: Path) -> None:
    run_dir = fake_run(tmp_path, in_chans=3, data={"name": "imagenet", "root": None})
    assert_input_error([str(run_dir)], "data.root is not set; pass the ImageNet folder with --data")


def test_cli_checkpoint_that_does_not_fit_its_config(tmp_path: Path) -> None:
    run_dir = fake_run(tmp_path)
    config = run_dir / ".hydra" / "config.yaml"
    config.write_text(config.read_text().replace("num_classes: 10", "num_classes: 5"))
    message = f"does not fit the model in {config}: size mismatch"
    assert_input_error([str(run_dir)], message)


def test_cli_ensemble_with_different_class_counts(tmp_path: Path) -> None:
    ten = fake_run(tmp_path, "ten", num_classes=10)
    five = fake_run(tmp_path, "five", num_classes=5)
    assert_input_error([str(ten), str(five)], "different numbers of classes")


def test_cli_empty_image_folder(tmp_path: Path) -> None:
    run_dir = fake_run(tmp_path, in_chans=3)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_input_error([str(run_dir), "--data", str(empty)], "holds no images")


def test_cli_published_weights_need_a_tag_and_data() -> None:
    assert_input_error(["model=v4"], "need both model=<name> and weights=timm:<tag>")
    assert_input_error(["model=v4", "weights=timm:inception_v4.tf_in1k"], "need --data")
