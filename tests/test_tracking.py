"""Tracking as the ecosystem expects it: W&B ids, groups, config and history read back from the
offline run files; the perf/ metrics against `inception bench`; evaluation results in the W&B
summary. (Searches: tests/test_search.py.)"""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path
from typing import Any

import pytest
import torch
from omegaconf import OmegaConf
from support.wandb_files import offline_runs, read_offline_run

from inception_cli.config.compose import compose_train_config
from inception_cli.measure import peak
from inception_cli.rundir import layout
from inception_cli.training.hyperparameters import LogHyperparameters
from inception_cli.training.perf import PerformanceMetrics, compute_dtype
from inception_cli.training.tracking import (
    add_eval_results_to_wandb,
    eval_summary,
    read_wandb_id,
    run_group,
    run_hyperparameters,
    run_tags,
    wandb_logger_arguments,
    wandb_run_id,
)

SWEEP = ["-m", "model=v3,irv1", "debug=tiny", "logger=wandb"]  # debug=tiny sets logger=csv first
HISTORY_KEYS = {"train/loss", "val/top1_error", "val/top5_error", "perf/images_per_s", "perf/mfu"}


# -- W&B: ids, groups, config and history, end to end ---------------------------------------------
@pytest.mark.slow
def test_two_wandb_sweeps_give_four_runs_in_two_groups(inception, tmp_path: Path) -> None:
    first = inception("train", *SWEEP)
    assert first.returncode == 0, first.stderr[-3000:]
    second = inception("train", *SWEEP, "logger.wandb.log_model=true")
    assert second.returncode == 0, second.stderr[-3000:]

    found = offline_runs(tmp_path / "runs")
    assert len(found) == 4, [run["run_dir"] for run in found]
    assert len({run["id"] for run in found}) == 4, "every run is a W&B run of its own"
    sweeps = {run["run_dir"].parent.name for run in found}
    assert {run["group"] for run in found} == sweeps and len(sweeps) == 2
    for run in found:
        assert run["id"] != run["run_dir"].name and run["id"] == read_wandb_id(run["run_dir"])
        assert run["job_type"] == "train"
        model = run["run_dir"].name.partition("_")[2]
        assert run["tags"] == [model, "pure" if model == "v3" else "residual"]
        assert {"model", "optimizer", "data", "trainer"} <= run["config"]
        assert {"params", "git_rev", "global_batch", "effective_lr"} <= run["config"]
        assert run["history"] >= HISTORY_KEYS, run["history"]
        header = (run["run_dir"] / "metrics.csv").read_text().splitlines()[0].split(",")
        assert {"perf/images_per_s", "perf/mfu", "perf/data_wait_share"} <= set(header)
    # logger.wandb.log_model=true, offline: best.ckpt is kept as a model artifact for `wandb sync`
    with_model = [run for run in found if run["artifacts"]]
    assert {run["run_dir"].parent.name for run in with_model} == {second_sweep(tmp_path)}
    assert all(kind == "model" for run in with_model for kind, _ in run["artifacts"])


def second_sweep(root: Path) -> str:
    return sorted(p.name for p in (root / "runs").iterdir() if p.name.endswith("_sweep"))[-1]


@pytest.mark.slow
def test_a_resumed_run_goes_on_in_its_wandb_run(inception, tmp_path: Path) -> None:
    first = inception("train", "debug=tiny", "logger=wandb", "model=irv1")
    assert first.returncode == 0, first.stderr[-3000:]
    (run_dir,) = (tmp_path / "runs").iterdir()
    resumed = inception("train", f"resume={run_dir}", "trainer.max_epochs=2")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    sessions = [read_offline_run(f) for f in sorted((run_dir / "wandb").glob("offline-run-*"))]
    assert len(sessions) == 2
    assert {run["id"] for run in sessions} == {read_wandb_id(run_dir)}
    assert {run["group"] for run in sessions} == {"quick_look"}, "the experiment, both times"


def test_wandb_id_is_random_kept_and_reused_only_by_a_continuing_run(tmp_path: Path) -> None:
    run_dir = tmp_path / "2026-01-01_00-00-00_irv2"
    run_dir.mkdir()
    first = wandb_run_id(run_dir)
    assert len(first) == 8 and first.isalnum() and first != run_dir.name
    assert read_wandb_id(run_dir) == first
    # Restarted from scratch in its directory (no checkpoint): a new W&B run.
    second = wandb_run_id(run_dir)
    assert second != first
    # Continuing from a checkpoint (resume=, a requeued job): the same W&B run.
    layout.checkpoint(run_dir, layout.LAST).parent.mkdir()
    layout.checkpoint(run_dir, layout.LAST).write_bytes(b"")
    assert wandb_run_id(run_dir) == second


def save_hydra(run_dir: Path, mode: str, experiment: str | None = "quick_look") -> None:
    saved = {"hydra": {"mode": mode, "runtime": {"choices": {"experiment": experiment}}}}
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "hydra.yaml").write_text(OmegaConf.to_yaml(saved))


def test_group_is_the_sweep_folder_or_the_experiment(tmp_path: Path) -> None:
    job = tmp_path / "2026-11-28_03-00-00_sweep" / "0_v3"
    save_hydra(job, "MULTIRUN")
    assert run_group(job) == "2026-11-28_03-00-00_sweep"
    single = tmp_path / "2026-11-28_03-00-00_v3"
    save_hydra(single, "RUN", "paper")
    assert run_group(single) == "paper"


def test_logger_arguments_carry_id_group_job_type_and_tags(tmp_path: Path) -> None:
    run_dir = tmp_path / "sweep" / "1_irv1"
    save_hydra(run_dir, "MULTIRUN")
    layout.save_config(run_dir, OmegaConf.to_yaml({"model": {"name": "irv1"}}))
    logger_cfg = OmegaConf.create({"tags": ["irv1", "mine"], "offline": True, "log_model": False})
    arguments = wandb_logger_arguments(run_dir, logger_cfg)
    assert arguments["id"] == read_wandb_id(run_dir)
    assert (arguments["group"], arguments["job_type"]) == ("sweep", "train")
    assert arguments["tags"] == ["irv1", "mine", "residual"]
    assert arguments["save_dir"] == str(run_dir) and "mode" not in arguments
    assert run_tags(run_dir) == ["irv1", "residual"]


def test_log_model_offline_is_opened_offline_by_wandb_itself(tmp_path: Path) -> None:
    from lightning.pytorch.loggers import WandbLogger

    logger_cfg = OmegaConf.create({"offline": True, "log_model": True})
    arguments = wandb_logger_arguments(tmp_path, logger_cfg)
    assert arguments["offline"] is False and arguments["mode"] == "offline"
    # Lightning refuses log_model with offline=True; W&B's own offline mode keeps the artifacts.
    WandbLogger(project="inception", log_model=True, **arguments)


# -- hyperparameters ------------------------------------------------------------------------------
def test_every_logger_receives_config_and_run_facts(tmp_path: Path) -> None:
    cfg = compose_train_config(["debug=tiny", f"paths.runs_dir={tmp_path}"])
    facts = {"params": 12, "git_rev": "abc", "global_batch": 4, "effective_lr": 0.01, "seed": 0}
    hyperparameters = run_hyperparameters(cfg, facts)
    assert {"model", "optimizer", "data", "trainer", "logger"} <= set(hyperparameters)
    assert hyperparameters["model"]["name"] == "irv2"
    assert "${" not in json.dumps(hyperparameters), "resolved, no interpolations"
    assert hyperparameters["params"] == 12 and hyperparameters["effective_lr"] == 0.01

    received: list[dict[str, Any]] = []

    class Logger:
        def log_hyperparams(self, params: dict[str, Any]) -> None:
            received.append(params)

    trainer = type("Trainer", (), {"loggers": [Logger(), Logger()]})()
    LogHyperparameters(hyperparameters).on_fit_start(trainer, None)  # type: ignore[arg-type]
    assert received == [hyperparameters, hyperparameters]


# -- performance metrics --------------------------------------------------------------------------
def test_perf_window_figures() -> None:
    perf = PerformanceMetrics(lambda: torch.nn.Linear(1, 1))
    perf.peak_flops, perf.flops_per_image = 1e9, 1e6
    perf.images, perf.waited_s = 200, 0.5
    figures = perf.window_metrics(seconds=2.0, world_size=4)
    assert figures["perf/images_per_s"] == pytest.approx(400.0)  # 100/s on each of 4 ranks
    assert figures["perf/mfu"] == pytest.approx(0.1)  # 1e6 x 100/s over 1e9 FLOP/s
    assert figures["perf/data_wait_share"] == pytest.approx(0.25)
    assert figures["perf/peak_gflops"] == pytest.approx(1.0)
    assert compute_dtype("bf16-mixed") == torch.bfloat16
    assert compute_dtype("16-mixed") == torch.float16 and compute_dtype("32-true") == torch.float32


def test_cpu_peak_is_the_best_over_sizes_measured_once(monkeypatch: pytest.MonkeyPatch) -> None:
    rates = {512: 90.0, 1024: 300.0, 2048: 250.0, 4096: 280.0, 8192: 120.0}
    measured: list[int] = []

    def fake_rate(n: int, device: str, dtype: torch.dtype, seconds: float) -> float:
        measured.append(n)
        return rates[n]

    monkeypatch.setattr(peak, "_product_rate", fake_rate)
    peak.matmul_peak_gflops.cache_clear()
    try:
        assert peak.matmul_peak_gflops("cpu", torch.bfloat16, 60.0) == 300.0
        assert measured == list(peak.CPU_SIZES), "every size up to 8192 when time allows"
        assert peak.matmul_peak_gflops("cpu", torch.bfloat16, 60.0) == 300.0
        assert len(measured) == len(peak.CPU_SIZES), "once per process"
        # A slow device within a short budget stops at the first size that would not fit.
        rates.update({n: 1e-3 for n in rates})
        measured.clear()
        peak.matmul_peak_gflops("cpu", torch.float32, 0.5)
        assert measured == [512]
    finally:
        peak.matmul_peak_gflops.cache_clear()


def test_gpu_peaks_come_from_the_datasheet_table() -> None:
    bf16 = torch.bfloat16
    assert peak.gpu_datasheet_flops("NVIDIA H100 80GB HBM3", bf16) == pytest.approx(989.5e12)
    assert peak.gpu_datasheet_flops("NVIDIA H100 PCIe", bf16) == pytest.approx(756e12)
    assert peak.gpu_datasheet_flops("NVIDIA H200", bf16) == pytest.approx(989.5e12)
    assert peak.gpu_datasheet_flops("NVIDIA A100-SXM4-80GB", torch.float16) == pytest.approx(312e12)
    assert peak.gpu_datasheet_flops("NVIDIA L4", bf16) == pytest.approx(121e12)
    assert peak.gpu_datasheet_flops("NVIDIA L40S", bf16) == pytest.approx(362e12)
    assert peak.gpu_datasheet_flops("Tesla T4", bf16) is None


def perf_rows(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "metrics.csv").open(newline="") as handle:
        return [row for row in csv.DictReader(handle) if row.get("perf/mfu")]


@pytest.mark.slow
def test_training_mfu_agrees_with_bench(inception, tmp_path: Path) -> None:
    """The default run (irv2, width 0.25, 75 px, batch 64, precision auto) against `inception
    bench` with the same network, input, batch and precision, on the same CPU threads."""
    trained = inception("train", "trainer.max_steps=30", "callbacks.progress_bar=none")
    assert trained.returncode == 0, trained.stderr[-3000:]
    (run_dir,) = (tmp_path / "runs").iterdir()
    rows = perf_rows(run_dir)
    assert [int(row["step"]) for row in rows] == [9, 19, 29], "every log_every_n_steps (10)"
    mfu = statistics.median(float(row["perf/mfu"]) for row in rows[1:])  # after the warm-up
    assert all(0 <= float(row["perf/data_wait_share"]) < 1 for row in rows)

    overrides = ["model=irv2", "width=0.25", "num_classes=10"]
    options = ["--size", "75", "--batch-size", "64", "--precision", "auto"]
    bench = inception("bench", *overrides, *options, "--output", str(tmp_path / "bench.json"))
    assert bench.returncode == 0, bench.stderr[-3000:]
    record = json.loads((tmp_path / "bench.json").read_text())
    network = record["results"]["train"]["networks"][0]
    utilisation = network["share_of_peak"]
    bench_peak = network["gflops_per_s"] / utilisation
    train_peak = statistics.median(float(row["perf/peak_gflops"]) for row in rows[1:])
    print(
        f"perf/mfu {mfu:.4f} of {train_peak:.0f} GFLOP/s; bench {utilisation:.4f} of {bench_peak:.0f}"
    )
    # Each process measures the CPU's matmul peak for itself, and on a shared machine two such
    # measurements have differed by 2.5x; so the utilisations are compared over one peak.
    assert 0.5 * utilisation <= mfu * train_peak / bench_peak <= 1.5 * utilisation


# -- evaluation results in the W&B summary --------------------------------------------------------
def eval_record(run_dir: Path, crops: int = 10) -> dict[str, Any]:
    member = {"run_dir": str(run_dir), "top1_error": 21.5, "top5_error": 5.25}
    other = {"run_dir": "/elsewhere/run", "top1_error": 30.0, "top5_error": 9.0}
    return {
        "top1_error": 20.0,
        "top5_error": 5.0,
        "ensemble": True,
        "protocol": {"crops": crops},
        "members": [member, other],
    }


def test_eval_summary_keys_by_crop_count(tmp_path: Path) -> None:
    assert eval_summary(tmp_path, eval_record(tmp_path)) == {
        "eval/10crop/top1_error": 21.5,
        "eval/10crop/top5_error": 5.25,
        "eval/10crop/ensemble_top1_error": 20.0,
        "eval/10crop/ensemble_top5_error": 5.0,
    }


def test_eval_results_reach_the_runs_wandb_summary_offline(tmp_path: Path) -> None:
    import wandb

    run_dir = tmp_path / "2026-01-01_00-00-00_v3"
    run_dir.mkdir()
    assert add_eval_results_to_wandb(run_dir, eval_record(run_dir)) is False, "no W&B run"
    run_id = wandb_run_id(run_dir)  # no saved config: the default project
    assert add_eval_results_to_wandb(run_dir, eval_record(run_dir, crops=1)) is True
    wandb.teardown()  # as the end of `inception eval`'s process: W&B's service writes it all out
    (folder,) = (run_dir / "wandb").glob(f"offline-run-*-{run_id}")
    written = read_offline_run(folder)
    assert written["id"] == run_id
    assert written["summary"]["eval/1crop/top1_error"] == 21.5
    assert written["summary"]["eval/1crop/top5_error"] == 5.25
