"""Scale: the global batch and its learning rate, torchrun across two "nodes", and a real SLURM
cluster on this machine (`bash .ci/slurm.sh start`): submission through Hydra's submitit
launcher, a requeue that the job survives by itself, and a two-task DDP job."""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import torch

from inception_cli.config.compose import compose_train_config
from inception_cli.training.cluster import global_batch
from inception_cli.training.optimizers import effective_lr

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


@pytest.mark.parametrize("scaling,factor", [("linear", 2.0), ("sqrt", 2**0.5), ("none", 1.0)])
def test_the_rate_follows_the_global_batch(scaling: str, factor: float) -> None:
    def rate(devices: int) -> tuple[int, float]:
        cfg = compose_train_config(
            [
                f"trainer.devices={devices}",
                "trainer.accelerator=cpu",
                f"optimizer.lr_scaling={scaling}",
            ]
        )
        return global_batch(cfg), effective_lr(cfg.optimizer, global_batch(cfg))

    (one_batch, one_rate), (two_batch, two_rate) = rate(1), rate(2)
    assert (one_batch, two_batch) == (64, 128)
    assert one_rate == pytest.approx(0.045)  # the quick look's batch is the reference batch
    assert two_rate == pytest.approx(0.045 * factor)


def test_the_paper_recipe_states_its_reference_batch(tmp_path: Path) -> None:
    cfg = compose_train_config(["experiment=paper", f"data.root={tmp_path}"])
    assert cfg.optimizer.lr_reference_batch == 32 and cfg.optimizer.lr_scaling == "sqrt"
    assert global_batch(cfg) == 256  # 32 per GPU x 8 GPUs
    assert effective_lr(cfg.optimizer, 256) == pytest.approx(0.045 * 8**0.5)


def test_a_run_prints_and_records_its_global_batch_and_rate(inception, tmp_path: Path) -> None:
    done = inception("train", "debug=tiny", "data.num_train=8")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "global batch 4 (4 per device x 1 devices x 1 nodes x 1 accumulated)" in done.stdout
    (run_dir,) = (tmp_path / "runs").iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["global_batch"] == 4
    assert summary["effective_lr"] == pytest.approx(0.045 * (4 / 64) ** 0.5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rows(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "metrics.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def rank_zero_wrote_everything(run_dir: Path) -> None:
    """Only global rank 0 writes the run's files: the saved config is rank 0's resolved one
    (another rank's Hydra would leave interpolations), each training step is logged once, and
    other ranks log to their own train.rank<N>.log."""
    assert "${" not in (run_dir / ".hydra" / "config.yaml").read_text()
    steps = [int(r["step"]) for r in rows(run_dir) if r["train/loss"]]
    assert steps == sorted(set(steps)) and steps, steps
    assert (run_dir / "train.log").is_file()
    assert not list(run_dir.glob(".hydra/*.rank*"))


@pytest.mark.slow
def test_torchrun_on_two_nodes_shares_one_run_directory(tmp_path: Path) -> None:
    port, rdzv = free_port(), f"tr-{uuid.uuid4().hex[:8]}"
    nodes = [
        subprocess.Popen(
            [
                sys.executable, "-m", "torch.distributed.run",
                "--nnodes=2", "--nproc-per-node=1", f"--node-rank={rank}",
                "--master-addr=127.0.0.1", f"--master-port={port}", f"--rdzv-id={rdzv}",
                "-m", "inception_cli.tasks.train",
                "debug=tiny", "trainer.accelerator=cpu", "trainer.devices=1",
                "trainer.num_nodes=2", "trainer.strategy=ddp",
            ],
            cwd=tmp_path, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for rank in (0, 1)
    ]  # fmt: skip
    outputs = [node.communicate(timeout=600)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]
    made = [p for p in (tmp_path / "runs").iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert [p.name for p in made] == [f"{rdzv}_irv2"]
    rank_zero_wrote_everything(made[0])
    assert (made[0] / "train.rank1.log").is_file()
    summary = json.loads((made[0] / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["global_batch"] == 8


# -- a real SLURM cluster ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def slurm() -> None:
    if shutil.which("sbatch") is None:
        pytest.skip("no SLURM client here: `bash .ci/slurm.sh start` installs and starts one")
    up = subprocess.run(["bash", str(REPO / ".ci" / "slurm.sh"), "status"], capture_output=True)
    if up.returncode != 0:
        pytest.skip("the local SLURM cluster is not running: `bash .ci/slurm.sh start`")
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="pip install '.[slurm]'")


def sweep(cwd: Path, name: str, *overrides: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable, "-m", "inception_cli", "train", "-m", "hydra/launcher=slurm",
            "hydra.launcher.timeout_min=15", "hydra.launcher.partition=debug",
            "hydra.launcher.cpus_per_task=1", f"hydra.launcher.name={name}",
            "trainer.accelerator=cpu", *overrides,
        ],
        cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def finished(process: subprocess.Popen[str], timeout: float = 600) -> str:
    out, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, out[-4000:]
    return out


def job_ids(name: str) -> list[str]:
    listed = subprocess.run(
        ["squeue", "-h", "-n", name, "-o", "%i"], capture_output=True, text=True
    )
    return listed.stdout.split()


def the_run(cwd: Path) -> Path:
    sweeps = [p for p in (cwd / "runs").iterdir() if p.name.endswith("_sweep")]
    assert len(sweeps) == 1, sweeps
    (run_dir,) = [p for p in sweeps[0].iterdir() if p.is_dir() and not p.name.startswith(".")]
    return run_dir


def scontrol(*args: str) -> str:
    return subprocess.run(["scontrol", *args], capture_output=True, text=True).stdout


# 80 steps, a checkpoint every 5: long enough to requeue the job in the middle.
REQUEUE_RUN = [
    "debug=tiny",
    "model=v3",
    "data.num_train=320",
    "callbacks.checkpoint_every_n_train_steps=5",
]


@pytest.mark.slow
def test_a_requeued_slurm_job_continues_its_run_to_the_same_weights(
    slurm: None, tmp_path: Path
) -> None:
    reference_dir, requeued_dir = tmp_path / "reference", tmp_path / "requeued"
    reference_dir.mkdir()
    requeued_dir.mkdir()
    finished(sweep(reference_dir, f"ref-{uuid.uuid4().hex[:6]}", *REQUEUE_RUN))

    name = f"rq-{uuid.uuid4().hex[:6]}"
    process = sweep(requeued_dir, name, *REQUEUE_RUN)
    deadline, job, run_dir = time.monotonic() + 300, None, None
    while time.monotonic() < deadline and process.poll() is None:
        job = job or next(iter(job_ids(name)), None)
        found = list((requeued_dir / "runs").glob("*_sweep/0_v3/checkpoints/last.ckpt"))
        if job and found:
            run_dir = found[0].parents[1]
            if len([r for r in rows(run_dir) if r["train/loss"]]) >= 12:
                break
        time.sleep(0.1)
    assert job is not None and run_dir is not None, "the job never got to a checkpoint"
    assert subprocess.run(["scontrol", "requeue", job]).returncode == 0
    while time.monotonic() < deadline and "JobState=PENDING" not in scontrol("show", "job", job):
        time.sleep(0.2)
    subprocess.run(["scontrol", "update", f"jobid={job}", "starttime=now"], check=True)
    out = finished(process)

    assert "Restarts=1" in scontrol("show", "job", job), out[-2000:]
    assert the_run(requeued_dir) == run_dir, "one run directory, continued in place"
    (continued,) = [json.loads(line) for line in (run_dir / "resumes.jsonl").open()]
    assert continued["how"] == "restarted job", "the job stopped mid-run and went on by itself"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["steps"] == 80
    steps = [int(r["step"]) for r in rows(run_dir) if r["train/loss"]]
    assert steps == list(range(80)), "every step logged once"
    ours = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    reference = the_run(reference_dir) / "checkpoints" / "last.ckpt"
    theirs = torch.load(reference, weights_only=True)["state_dict"]
    assert [k for k in ours if not torch.equal(ours[k], theirs[k])] == []


@pytest.mark.slow
def test_a_two_task_slurm_job_is_one_ddp_run_written_by_rank_zero(
    slurm: None, tmp_path: Path
) -> None:
    finished(
        sweep(
            tmp_path,
            f"ddp-{uuid.uuid4().hex[:6]}",
            "hydra.launcher.tasks_per_node=2",
            "debug=tiny",
            "data.num_val=12",
        )
    )
    run_dir = the_run(tmp_path)
    rank_zero_wrote_everything(run_dir)
    assert (run_dir / "train.rank1.log").is_file()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["global_batch"] == 8 and summary["status"] == "finished"
    # 16 images, 4 per device and step on 2 devices: 2 steps, logged once.
    assert [int(r["step"]) for r in rows(run_dir) if r["train/loss"]] == [0, 1]
    assert_validation_reduced_over_ranks(run_dir)


def assert_validation_reduced_over_ranks(run_dir: Path) -> None:
    """The logged error is that of all 12 validation images, not of one rank's 6."""
    from omegaconf import OmegaConf

    from inception_cli.data import build_dataset
    from inception_cli.models import create_model

    cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    model = create_model(**OmegaConf.to_container(cfg.model)).eval()
    state = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    model.load_state_dict(
        {k.removeprefix("ema_model."): v for k, v in state.items() if k.startswith("ema_model.")}
    )
    dataset = build_dataset(cfg.data, "val")
    images = torch.stack([dataset[i][0] for i in range(len(dataset))])
    labels = torch.tensor([int(dataset[i][1]) for i in range(len(dataset))])
    with torch.no_grad():
        wrong = (model(images).argmax(1) != labels).float().mean().item() * 100
    logged = [float(r["val/top1_error"]) for r in rows(run_dir) if r["val/top1_error"]]
    assert logged[-1] == pytest.approx(wrong, abs=1e-3)
