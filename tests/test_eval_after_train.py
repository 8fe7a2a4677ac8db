"""`inception eval` on a run that `inception train` just made, as a user types it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.user import trained_in_process
from typer.testing import CliRunner

from inception_cli.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    overrides = [
        "data=synthetic",
        "data.num_train=8",
        "data.num_val=6",
        "data.batch_size=4",
        "model=irv1",
        "model.width=0.1",
        "trainer.max_epochs=1",
    ]
    workdir = tmp_path_factory.mktemp("project")
    return trained_in_process(workdir, "2026-01-01_00-00-00_irv1", overrides)


def test_eval_without_arguments_picks_the_latest_run_and_crops_agree_on_images(
    trained_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(trained_run.parents[1])
    records = {}
    for crops in (1, 10, 144):
        args = (
            ["eval", "--crops", str(crops)]
            if crops == 144
            else ["eval", str(trained_run), "--crops", str(crops)]
        )
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        records[crops] = json.loads((trained_run / "eval" / f"{crops}crop.json").read_text())
    assert "2026-01-01_00-00-00_irv1" in result.output  # says which run it picked
    for crops, record in records.items():
        assert record["protocol"]["crops"] == crops
        assert record["images"]["evaluated"] == 6
        assert record["members"][0]["checkpoint"].endswith("best.ckpt")
        assert 0.0 <= record["top1_error"] <= 100.0
    digests = {record["images"]["labels_sha256"] for record in records.values()}
    assert len(digests) == 1, "1, 10 and 144 crops must score the same images"
    # docs/eval.md: floor(75 / 0.875) for 1 and 10 crops; 86, 96, 107, 118 for 144 crops at 75 px
    assert records[1]["protocol"]["shorter_sides"] == {"75": 85}
    assert records[10]["protocol"]["shorter_sides"] == {"75": 85}
    assert records[144]["protocol"]["shorter_sides"] == {"75": [86, 96, 107, 118]}


def test_eval_never_overwrites_an_earlier_result(trained_run: Path) -> None:
    first = runner.invoke(
        app, ["eval", str(trained_run), "--output", str(trained_run / "mine.json")]
    )
    second = runner.invoke(
        app, ["eval", str(trained_run), "--output", str(trained_run / "mine.json")]
    )
    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert (trained_run / "mine.json").is_file() and (trained_run / "mine-1.json").is_file()
