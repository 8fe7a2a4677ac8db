"""`inception eval --real-labels real.json`: ImageNet-ReaL errors beside the original ones, scored
as timm's RealLabelsImagenet scores them, images matched to entries by file name (ImageNet
folders) or by position, and a bad labels file refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from test_eval import EVAL_OPTIONS, assert_input_error, fake_run, flat_val_folder
from timm.data.real_labels import RealLabelsImagenet

from inception_cli.evaluation.predictions import Predictions
from inception_cli.evaluation.real_labels import RealLabels, real_scores
from inception_cli.tasks.evaluate import run_eval

ALL = list(range(10))
# Images 1..6 of a flat validation folder; 2 and 5 are blacklisted, so that the evaluated set
# (1, 3, 4, 6) and the file's entries line up by file name only.
ENTRIES = [ALL, [], [], [4, 7], ALL, [0, 2, 9]]


def test_errors_match_timms_real_labels_and_leave_out_unlabelled_images(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    entries = [
        sorted(rng.choice(10, size=int(rng.integers(0, 4)), replace=False).tolist())
        for _ in range(40)
    ]
    real_json = tmp_path / "real.json"
    real_json.write_text(json.dumps(entries))
    logits = torch.from_numpy(rng.normal(size=(40, 10)))

    names = [f"ILSVRC2012_val_{i + 1:08d}.JPEG" for i in range(40)]
    theirs = RealLabelsImagenet(names, real_json=str(real_json))
    theirs.add_result(logits)

    classes = np.full((40, 3), -1, dtype=np.int64)
    for number, entry in enumerate(entries):
        classes[number, : len(entry)] = entry
    top = logits.topk(5, dim=1).indices.numpy().astype(np.int32)[:, None, :]  # one head
    ours = real_scores(RealLabels(real_json, "file name", classes), np.arange(40), top)
    assert ours is not None
    assert ours.images == sum(1 for entry in entries if entry) < 40
    assert 100.0 - ours.ensemble_errors[0] == pytest.approx(theirs.get_accuracy(k=1))
    assert 100.0 - ours.ensemble_errors[1] == pytest.approx(theirs.get_accuracy(k=5))


def expected_real_top1(result: Path, entries: list[list[int]], official: list[int]) -> float:
    """The ReaL top-1 error from the saved top classes, position p being file official[p]."""
    saved = Predictions.load(result.with_suffix(".npz"))
    right = [
        int(top[-1][0]) in entries[official[position] - 1]
        for position, top in zip(saved.positions, saved.multi, strict=True)
        if entries[official[position] - 1]
    ]
    return 100.0 * (1.0 - sum(right) / len(right))


def test_imagenet_folder_is_matched_by_file_name(tmp_path: Path) -> None:
    run_dir = fake_run(tmp_path, num_classes=10, in_chans=3)
    folder = flat_val_folder(tmp_path / "imagenet", labels=[0, 1, 2, 3, 4, 5])
    blacklist = tmp_path / "blacklist.txt"
    blacklist.write_text("2\n5\n")
    real_json = tmp_path / "real.json"
    real_json.write_text(json.dumps(ENTRIES))
    result = tmp_path / "result.json"
    options = EVAL_OPTIONS | dict(data=str(folder), exclude_blacklist=blacklist, output=result)
    record = run_eval([str(run_dir)], **options, limit=None, real_labels=real_json)  # type: ignore[arg-type]

    assert record["images"]["evaluated"] == 4
    # Files 1, 4 and 6 have a ReaL label; by position (entries 1-4) only two images would.
    assert record["real_labels"] == {"file": str(real_json), "matched_by": "file name", "images": 3}
    expected = expected_real_top1(result, ENTRIES, official=[1, 3, 4, 6])
    assert record["real_top1_error"] == pytest.approx(expected)
    assert record["members"][0]["real_top1_error"] == record["real_top1_error"]
    assert 0.0 <= record["real_top5_error"] <= record["real_top1_error"]
    assert {"top1_error", "top5_error"} <= set(record), "the original labels' errors stay"

    # --limit keeps the first images of the folder (files 1, 3, 4), still matched by name.
    options |= dict(output=tmp_path / "three.json")
    limited = run_eval([str(run_dir)], **options, limit=3, real_labels=real_json)  # type: ignore[arg-type]
    assert limited["real_labels"]["images"] == 2


def test_other_data_are_matched_by_position_for_an_ensemble_and_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the table and the note on one line each
    runs = [str(fake_run(tmp_path, name)) for name in ("a_irv1", "b_irv1")]  # 3 synthetic images
    real_json = tmp_path / "real.json"
    real_json.write_text(json.dumps([ALL, [], ALL]))
    record = run_eval(runs, **EVAL_OPTIONS, limit=None, real_labels=real_json)  # type: ignore[arg-type]
    assert record["real_labels"]["matched_by"] == "position"
    assert record["real_labels"]["images"] == 2
    # Every class is right for the two labelled images, whatever the networks predict.
    assert record["real_top1_error"] == 0.0
    assert [member["real_top1_error"] for member in record["members"]] == [0.0, 0.0]
    printed = capsys.readouterr().out
    assert "ReaL top-1 error %" in printed and "2 of 3 images have a label" in printed
    assert "ensemble of 2" in printed


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[[1], [2", "is not JSON"),
        ('{"a": 1}', "holds no list of entries"),
        ("[[1], 2, [3]]", "entry 1 of"),
        ("[[1], [-1], [3]]", "entry 1 of"),
        ("[[1], [12], [3]]", "names class 12, but the network predicts 10 classes"),
        ("[[1], [2], [3], [4]]", "has 4 entries, but the data hold 3 images"),
        ("[[], [], []]", "none of the 3 images to evaluate has a label"),
    ],
)
def test_a_bad_labels_file_is_one_line(tmp_path: Path, content: str, expected: str) -> None:
    run_dir = fake_run(tmp_path)
    real_json = tmp_path / "real.json"
    real_json.write_text(content)
    assert_input_error([str(run_dir), "--real-labels", str(real_json)], expected)
    assert not (run_dir / "eval" / "1crop.json").exists(), "no result is written"


def test_a_missing_labels_file_is_one_line(tmp_path: Path) -> None:
    run_dir = fake_run(tmp_path)
    missing = tmp_path / "real.json"
    assert_input_error([str(run_dir), "--real-labels", str(missing)], "cannot read the ReaL labels")


def test_a_folder_needs_the_entries_of_its_files(tmp_path: Path) -> None:
    run_dir = fake_run(tmp_path, num_classes=10, in_chans=3)
    folder = flat_val_folder(tmp_path / "imagenet", labels=[0, 1, 2])
    real_json = tmp_path / "real.json"
    real_json.write_text(json.dumps([ALL, ALL]))
    arguments = [str(run_dir), "--data", str(folder), "--real-labels", str(real_json)]
    assert_input_error(arguments, "has 2 entries, but the data hold ILSVRC2012_val_00000003.JPEG")
