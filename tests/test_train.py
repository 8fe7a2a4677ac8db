"""Training end to end: run directories, metrics, DDP, multirun sweeps, resume after SIGKILL."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch

from inception_cli.config.compose import compose_train_config, group_options
from inception_cli.rundir.metrics import METRIC_COLUMNS
from inception_cli.training.loop import train

TINY = ["debug=tiny"]  # conf/debug/tiny.yaml: synthetic 75-px data, width 0.1, one epoch


def read_rows(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "metrics.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def only_run_dir(root: Path) -> Path:
    runs = [p for p in root.iterdir() if p.is_dir()]
    assert len(runs) == 1, f"expected exactly one run directory, found {runs}"
    return runs[0]


@pytest.mark.parametrize("experiment", group_options("experiment"))
def test_every_experiment_preset_runs_one_step(experiment: str, tmp_path: Path) -> None:
    cfg = compose_train_config(
        [
            f"experiment={experiment}",
            "debug=step",  # one step on the CPU, whatever hardware the preset asks for
            f"paths.runs_dir={tmp_path}",
        ]
    )
    run_dir = tmp_path / "run"
    summary = train(cfg, run_dir)
    assert summary["status"] == "finished"
    assert summary["steps"] == 1
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert (run_dir / "metrics.csv").is_file(), "loggers write into the run directory"


def test_train_leaves_a_complete_run_directory(inception, tmp_path: Path) -> None:
    result = inception("train", *TINY, "trainer.max_epochs=2", "model=v3")
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = only_run_dir(tmp_path / "runs")
    for name in (".hydra/config.yaml", ".hydra/overrides.yaml", "metrics.csv", "summary.json"):
        assert (run_dir / name).is_file(), name
    for name in ("last.ckpt", "best.ckpt"):
        assert (run_dir / "checkpoints" / name).is_file(), name

    saved = (run_dir / ".hydra" / "config.yaml").read_text()
    assert "${" not in saved, "the saved config must be resolved"

    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "finished"
    assert summary["model"] == "v3" and summary["residual"] is False
    assert summary["epochs"] == 2 and summary["steps"] == 8
    assert summary["params"] > 0 and summary["wall_time_s"] > 0
    assert 0 <= summary["best_val_top1_error"] <= 100

    rows = read_rows(run_dir)
    assert list(rows[0].keys())[: len(METRIC_COLUMNS)] == list(METRIC_COLUMNS)
    val_rows = [r for r in rows if r["val/top1_error"]]
    train_rows = [r for r in rows if r["train/loss"]]
    assert [int(r["epoch"]) for r in val_rows] == [0, 1]
    assert len(train_rows) == 8 and all(r["lr"] and r["time/elapsed_s"] for r in train_rows)
    assert float(val_rows[-1]["val/top1_error"]) == pytest.approx(
        summary["final_val_top1_error"], abs=1e-3
    )

    checkpoint = torch.load(
        run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False
    )
    keys = checkpoint["state_dict"].keys()
    assert any(k.startswith("model.") for k in keys) and any(
        k.startswith("ema_model.") for k in keys
    )
    assert "Training run" in result.stdout  # the rich summary table


@pytest.mark.slow
def test_ddp_on_two_cpu_processes_shares_one_run_and_reduces_errors(
    inception, tmp_path: Path
) -> None:
    result = inception(
        "train",
        *TINY,
        "model=irv2",
        "data.num_val=12",
        "data.batch_size=2",
        "trainer.devices=2",
        "trainer.accelerator=cpu",
        "trainer.strategy=ddp",
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = only_run_dir(tmp_path / "runs")
    rows = read_rows(run_dir)
    steps = [int(r["step"]) for r in rows if r["train/loss"]]
    assert steps == sorted(set(steps)), "each step is logged once, by rank 0 only"
    assert len(steps) == 16 // (2 * 2)

    # The logged error must be that of the whole validation set, not of one rank's half.
    from omegaconf import OmegaConf

    from inception_cli.data import build_dataset
    from inception_cli.models import create_model

    cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    model = create_model(**OmegaConf.to_container(cfg.model)).eval()
    state = torch.load(
        run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False
    )
    model.load_state_dict(
        {
            k.removeprefix("ema_model."): v
            for k, v in state["state_dict"].items()
            if k.startswith("ema_model.")
        }
    )
    dataset = build_dataset(cfg.data, "val")
    images = torch.stack([dataset[i][0] for i in range(len(dataset))])
    labels = torch.tensor([int(dataset[i][1]) for i in range(len(dataset))])
    with torch.no_grad():
        wrong = (model(images).argmax(1) != labels).float().mean().item() * 100
    logged = float([r for r in rows if r["val/top1_error"]][-1]["val/top1_error"])
    assert logged == pytest.approx(wrong, abs=1e-3)


@pytest.mark.slow
def test_multirun_gives_one_run_directory_per_model(inception, tmp_path: Path) -> None:
    result = inception(
        "train",
        "-m",
        "model=v3,irv1,v4,irv2",
        "trainer.max_epochs=2",
        "trainer.limit_train_batches=1",
        "trainer.limit_val_batches=1",
        "data.batch_size=4",
        "callbacks.progress_bar=none",
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    sweep = only_run_dir(tmp_path / "runs")
    runs = sorted(p for p in sweep.iterdir() if p.is_dir())
    assert [p.name for p in runs] == ["0_v3", "1_irv1", "2_v4", "3_irv2"]
    for run, model in zip(runs, ["v3", "irv1", "v4", "irv2"], strict=True):
        summary = json.loads((run / "summary.json").read_text())
        assert summary["model"] == model and summary["status"] == "finished"

    # The comparison of these real runs draws one visible curve and legend entry per model.
    from inception_cli.tasks.compare import run_compare

    compared = run_compare([sweep], metric="top1", output=tmp_path / "figures", fmt="json")
    top1 = compared.drawn["top1"]
    assert sorted(series.model for series in top1.series) == ["irv1", "irv2", "v3", "v4"]
    assert all(len(series.x) == 2 and len(series.y) == 2 for series in top1.series)
    for name in ("Inception-v3", "Inception-ResNet-v1", "Inception-v4", "Inception-ResNet-v2"):
        assert name in top1.legend
    assert (tmp_path / "figures" / "convergence_top1.png").stat().st_size > 1000


@pytest.mark.slow
def test_wandb_logger_runs_offline_in_the_run_directory(inception, tmp_path: Path) -> None:
    result = inception("train", *TINY, "model=irv1", "logger=wandb")
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = only_run_dir(tmp_path / "runs")
    assert (run_dir / "metrics.csv").is_file(), "csv stays on beside wandb"
    offline = list((run_dir / "wandb").glob("offline-run-*"))
    assert len(offline) == 1, "wandb writes one offline run inside the run directory"


class Explode(pl.Callback):
    """Fails the run at its third step, as a crash in the middle of training would."""

    def on_train_batch_end(self, trainer: pl.Trainer, *args: object) -> None:
        if trainer.global_step == 3:
            raise RuntimeError("boom")


def test_a_crash_marks_the_run_failed_and_keeps_what_was_logged(tmp_path: Path) -> None:
    cfg = compose_train_config(
        [
            *TINY,
            f"+callbacks.extra.explode._target_={__name__}.Explode",
            f"paths.runs_dir={tmp_path}",
        ]
    )
    run_dir = tmp_path / "run"
    with pytest.raises(RuntimeError, match="boom"):
        train(cfg, run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed"
    assert "boom" in summary["error"]
    # The three steps finished before the crash stay logged: a step's row is written at its
    # end, before any later callback of that step (here the one that crashes) runs.
    assert [int(r["step"]) for r in read_rows(run_dir)] == [0, 1, 2]
