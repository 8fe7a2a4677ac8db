"""Hyperparameter search: Hydra's Optuna sweeper over training runs, and the checks of sweeper
overrides in the CLI process."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from inception_cli.config.compose import check_overrides, config_groups
from inception_cli.errors import InputError
from inception_cli.rundir import layout

SEARCH_RUN = [  # the embedded data, a few steps each
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=3",
    "trainer.limit_val_batches=2",
    "data.batch_size=16",
    "model.width=0.1",
    "callbacks.progress_bar=none",
]


@pytest.mark.slow
def test_an_optuna_search_of_three_trials_reports_the_best(inception, tmp_path: Path) -> None:
    search = ["-m", "hydra/sweeper=optuna", "hydra.sweeper.n_trials=3"]
    result = inception("train", *search, "optimizer.lr=interval(0.01,0.1)", *SEARCH_RUN)
    assert result.returncode == 0, result.stderr[-3000:]
    (sweep,) = (tmp_path / "runs").iterdir()
    trials = sorted(p for p in sweep.iterdir() if p.is_dir())
    assert len(trials) == 3
    errors = [layout.read_summary(trial)["best_val_top1_error"] for trial in trials]  # type: ignore[index]
    best = OmegaConf.load(sweep / "optimization_results.yaml")
    assert best.best_value == pytest.approx(min(errors), abs=1e-3)
    assert 0.01 <= best.best_params["optimizer.lr"] <= 0.1
    assert "Best value" in result.stdout + result.stderr


def test_main_returns_the_best_validation_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from inception_cli.config import resolvers

    # Importing the task module makes this process claim run directories: undo that after.
    monkeypatch.setattr(resolvers.run_names, "claim", resolvers.run_names.claim)
    from inception_cli.tasks.train import best_val_top1_error

    assert best_val_top1_error({"best_val_top1_error": 12.5}) == 12.5
    assert best_val_top1_error({"best_val_top1_error": None}) == float("inf")


@pytest.mark.parametrize(
    "overrides",
    [
        ["hydra/sweeper=optuna", "hydra.sweeper.n_trials=3", "optimizer.lr=interval(0.01,0.1)"],
        ["hydra/sweeper=optuna", "optimizer.lr=tag(log, interval(0.001,0.1))"],
        ["hydra/sweeper=optuna", "optimizer.lr=choice(0.01,0.1)", "model=choice(v3,irv1)"],
        ["hparams_search=lr", "hydra.sweeper.n_trials=2"],
        ["hydra/sweeper=basic", "model=v3,irv1"],
    ],
    ids=["interval", "log_interval", "choice", "hparams_search", "basic"],
)
def test_sweeper_overrides_pass_the_checks(overrides: list[str]) -> None:
    assert "hparams_search" in config_groups()
    check_overrides(overrides)


@pytest.mark.parametrize(
    "overrides,says",
    [
        (["hydra/sweeper=nevergrad"], "unknown hydra/sweeper 'nevergrad'; choose one of: basic"),
        (["optimizer.lr=interval(0.01,0.1)"], "add hydra/sweeper=optuna"),
        (["hydra/sweeper=optuna", "optimizer.lrr=interval(0.01,0.1)"], "did you mean"),
    ],
)
def test_sweeper_mistakes_are_one_line(overrides: list[str], says: str) -> None:
    with pytest.raises(InputError, match="^[^\n]*$") as raised:
        check_overrides(overrides)
    assert says in str(raised.value)


@pytest.mark.parametrize("overrides", [["hydra/sweeper=optuna"], ["hparams_search=lr"]])
def test_a_missing_optuna_plugin_says_what_to_install(
    overrides: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name.endswith("optuna_sweeper") else find_spec(name, *a),
    )
    with pytest.raises(InputError, match=r"pip install 'inception-paper-lab\[optuna\]'"):
        check_overrides(overrides)


def test_a_search_on_several_devices_is_refused(tmp_path: Path) -> None:
    from inception_cli.tasks.launch import prepare_train_argv

    args = ["-m", "hydra/sweeper=optuna", "optimizer.lr=interval(0.01,0.1)", "trainer.devices=2"]
    with pytest.raises(InputError, match="whatever the sweeper"):
        prepare_train_argv([*args, "trainer.accelerator=cpu", f"paths.runs_dir={tmp_path}"])
