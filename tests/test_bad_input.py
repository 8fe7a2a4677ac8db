"""Every mistake a user can make gets one line on stderr and exit status 2, from the real command
line, with no traceback; and nothing an earlier run wrote changes (docs/training.md, "Bad input
and faults")."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest
import torch
from support.user import TINY, assert_one_line_error, fingerprint, finished_run, inception


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with one finished run in runs/, as a user's would have."""
    cwd = tmp_path_factory.mktemp("user")
    finished_run(cwd)
    return cwd


def earlier_run(workdir: Path) -> Path:
    (run_dir,) = [p for p in (workdir / "runs").iterdir() if p.is_dir() and p.name[0] != "."]
    return run_dir


TENSORBOARD = importlib.util.find_spec("tensorboard") or importlib.util.find_spec("tensorboardX")
CASES = {
    "range": (["data.crop_fraction=2"], "data.crop_fraction=2 is out of range"),
    "negative_epochs": (["trainer.max_epochs=-5"], "trainer.max_epochs=-5 is out of range"),
    "precision_name": (["trainer.precision=bf17"], "trainer.precision='bf17' is out of range"),
    "input_below_the_stem": (["data.input_size=60"], "below the 75 px that irv2 accepts"),
    "missing_gpu": (["trainer=gpu"], "this machine has no GPU"),
    "gpu_indices_on_a_cpu": (["trainer.devices=[0,1]"], "names GPU indices"),
    "added_key_the_trainer_lacks": (["+trainer.max_epoch=3"], "did you mean trainer.max_epochs?"),
    "deleted_section": (["~ema"], "ema.enabled=false"),
    "unknown_key": (["trainer.max_epoch=3"], "did you mean trainer.max_epochs?"),
    "unknown_group_option": (["model=v5"], "unknown model 'v5'"),
    "sweep_with_several_devices": (["-m", "model=v3,irv1", "trainer.devices=1,2"], "hangs"),
    "sweep_value_out_of_range": (["-m", "optimizer.lr=0.1,-1"], "optimizer.lr=-1 is out of range"),
    "unknown_launcher": (["-m", "hydra/launcher=slurmx"], "unknown hydra/launcher"),
    "missing_logger_package": (["logger=tensorboard"], "needs the tensorboard package"),
    "fewer_images_than_a_batch": ([*TINY, "data.num_train=2"], "fewer than one global batch"),
    "model_argument_it_lacks": ([*TINY, "+model.foo=1"], "unexpected keyword argument 'foo'"),
    "resume_of_a_finished_run": (["resume=<run>"], "has finished (1 epochs)"),
    "resume_changing_the_model": (["resume=<run>", "model=v4"], "cannot change model"),
}


FAST_CASES = ("range", "unknown_key", "fewer_images_than_a_batch")


@pytest.mark.parametrize(
    "case", [c if c in FAST_CASES else pytest.param(c, marks=pytest.mark.slow) for c in CASES]
)
def test_bad_train_input_is_one_line_and_exit_2(case: str, workdir: Path) -> None:
    if case == "missing_logger_package" and TENSORBOARD:
        pytest.skip("tensorboard is installed here")
    args, expected = CASES[case]
    run_dir = earlier_run(workdir)
    args = [a.replace("<run>", str(run_dir)) for a in args]
    before, runs_before = fingerprint(run_dir), sorted((workdir / "runs").iterdir())

    done = inception(workdir, "train", *args)

    assert_one_line_error(done, expected)
    assert fingerprint(run_dir) == before, "the earlier run is left byte for byte as it was"
    assert sorted((workdir / "runs").iterdir()) == runs_before, "no half-made run directory"


@pytest.mark.slow
def test_a_diverging_run_stops_keeps_finite_weights_and_says_so(tmp_path: Path) -> None:
    done = inception(
        tmp_path,
        "train",
        "debug=tiny",
        "data.num_train=64",  # 16 steps, if it went on
        "optimizer.lr=1e8",
        "callbacks.checkpoint_every_n_train_steps=1",
    )
    assert done.returncode == 3, done.stderr[-3000:]
    said = [line for line in done.stderr.splitlines() if "diverged" in line]
    assert len(said) == 1 and "training diverged at step" in said[0]
    (run_dir,) = (tmp_path / "runs").iterdir()

    def no_constants(name: str) -> None:
        raise AssertionError(f"summary.json holds {name}: not strict JSON")

    summary = json.loads((run_dir / "summary.json").read_text(), parse_constant=no_constants)
    assert summary["status"] == "diverged"
    assert summary["diverged_at_step"] <= 4, "it stops within a few steps"
    saved = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    floats = [v for v in saved["state_dict"].values() if v.is_floating_point()]
    assert floats and all(bool(torch.isfinite(v).all()) for v in floats)
    assert saved["global_step"] < summary["diverged_at_step"]
    assert all(math.isfinite(x) for x in [summary["effective_lr"]])


class FakeStrategy:
    def reduce_boolean_decision(self, decision: bool, all: bool = True) -> bool:  # noqa: A002
        return decision


class FakeTrainer:
    def __init__(self, log_every_n_steps: int) -> None:
        self.log_every_n_steps = log_every_n_steps
        self.global_step = 0
        self.should_stop = False
        self.sanity_checking = False
        self.strategy = FakeStrategy()


def test_the_divergence_guard_reads_losses_only_where_it_must_and_names_the_first_bad_step() -> (
    None
):
    """Reading a loss on the host waits for the device: the guard does it on logging steps
    and before checkpoints, and still reports the first bad step."""
    from inception_cli.training.divergence import DivergenceGuard, RunDiverged

    guard, trainer = DivergenceGuard(), FakeTrainer(log_every_n_steps=10)
    for step, loss in enumerate([1.0, math.nan, 2.0, math.inf], start=1):
        trainer.global_step = step
        guard.on_train_batch_end(trainer, None, {"loss": torch.tensor(loss)})  # type: ignore[arg-type]
    with pytest.raises(RunDiverged) as stopped:
        guard.on_save_checkpoint(trainer, None, {})  # type: ignore[arg-type]
    assert stopped.value.step == 2 and math.isnan(stopped.value.loss)

    bounded = DivergenceGuard(max_loss=5.0)
    trainer.global_step = 10  # a logging step
    with pytest.raises(RunDiverged):
        bounded.on_train_batch_end(trainer, None, torch.tensor(6.0))  # type: ignore[arg-type]
    finite = DivergenceGuard()
    finite.on_train_batch_end(trainer, None, torch.tensor(1.0))  # type: ignore[arg-type]
    finite.on_train_end(trainer, None)  # type: ignore[arg-type]
