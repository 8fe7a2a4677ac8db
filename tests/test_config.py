"""Every config composes; bad overrides get one clear line and exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from inception_cli.cli import app
from inception_cli.config.compose import (
    compose_train_config,
    config_dir,
    config_groups,
    group_options,
)

runner = CliRunner()
GROUPS = config_groups()
NEEDS_ROOT = {"data": {"imagenet", "shards"}, "experiment": {"paper"}}


def test_every_group_has_options() -> None:
    for group in GROUPS:
        assert group_options(group), f"conf/{group}/ is empty"


@pytest.mark.parametrize(
    "group,option", [(g, o) for g in GROUPS for o in group_options(g)], ids=lambda v: str(v)
)
def test_every_config_composes_and_resolves(group: str, option: str, tmp_path: Path) -> None:
    overrides = [f"{group}={option}", f"paths.runs_dir={tmp_path}"]
    if option in NEEDS_ROOT.get(group, set()):
        overrides.append(f"data.root={tmp_path}")
    cfg = compose_train_config(overrides)
    resolved = cfg.copy()
    from omegaconf import OmegaConf

    OmegaConf.resolve(resolved)  # no interpolation may dangle
    assert cfg.model.name in group_options("model")
    assert cfg.model.num_classes == cfg.data.num_classes
    assert cfg.trainer._target_ == "lightning.pytorch.Trainer"
    assert "csv" in cfg.logger


def test_default_config_is_the_cpu_quick_look() -> None:
    cfg = compose_train_config([])
    assert cfg.data.name == "embedded"
    assert cfg.model.width == 0.25
    assert cfg.trainer.max_epochs == 5, "the quick look must win over the trainer preset"
    assert cfg.data.input_size >= 75  # the valid-padding stems stop below 75 px


def test_every_group_is_composed_here() -> None:
    assert {"model", "data", "trainer", "experiment", "hparams_search", "debug"} <= set(GROUPS)


@pytest.mark.parametrize(
    "overrides",
    [["data=imagenet"], ["trainer=8gpu"], ["trainer.devices=8"], ["data=shards", "trainer=gpu"]],
    ids=" ".join,
)
def test_groups_other_than_the_experiment_keep_the_quick_look(
    overrides: list[str], tmp_path: Path
) -> None:
    """What docs/training.md says: the quarter width and the five epochs belong to the quick
    look, so a data set or a trainer preset alone does not bring the paper's network."""
    cfg = compose_train_config([*overrides, f"data.root={tmp_path}"])
    assert (cfg.model.width, cfg.trainer.max_epochs) == (0.25, 5)
    assert cfg.optimizer._target_ == "torch.optim.RMSprop"


@pytest.mark.parametrize(
    "overrides", [[], ["data=shards"], ["trainer=multinode"], ["trainer.devices=1"]], ids=" ".join
)
def test_the_paper_experiment_replaces_the_quick_look(overrides: list[str], tmp_path: Path) -> None:
    cfg = compose_train_config(["experiment=paper", *overrides, f"data.root={tmp_path}"])
    assert (cfg.model.width, cfg.trainer.max_epochs) == (1.0, 160)
    assert cfg.optimizer._target_ == "inception_cli.training.rmsprop_tf.RMSpropTF"
    assert cfg.data.augment == "inception" and cfg.optimizer.lr_reference_batch == 32


def test_data_presets_set_only_data_keys() -> None:
    """What the quick look sets for the model and the trainer lives in its experiment."""
    import yaml

    for option in group_options("data"):
        text = (config_dir() / "data" / f"{option}.yaml").read_text()
        assert "@package _global_" not in text, option
        keys = set(yaml.safe_load(text))
        assert not keys & {"model", "trainer", "data", "optimizer"}, (option, keys)


@pytest.mark.parametrize("model", group_options("model"))
def test_the_paper_experiment_takes_the_model_from_the_command_line(
    model: str, tmp_path: Path
) -> None:
    cfg = compose_train_config(["experiment=paper", f"model={model}", f"data.root={tmp_path}"])
    assert cfg.model.name == model and cfg.model.width == 1.0
    assert cfg.optimizer._target_ == "inception_cli.training.rmsprop_tf.RMSpropTF"
    assert cfg.optimizer.lr == 0.045 and cfg.optimizer.eps == 1.0 and cfg.optimizer.alpha == 0.9
    assert cfg.scheduler.decay_rate == 0.94 and cfg.scheduler.decay_epochs == 2
    assert cfg.loss.label_smoothing == 0.1 and cfg.trainer.gradient_clip_val == 2.0
    assert cfg.data.input_size == 299


def test_conf_is_found_next_to_the_package() -> None:
    assert (config_dir() / "train.yaml").is_file()


def test_config_show_prints_the_composed_config() -> None:
    result = runner.invoke(app, ["config", "show", "model=v4", "trainer.max_epochs=7"])
    assert result.exit_code == 0, result.output
    assert "name: v4" in result.output
    assert "max_epochs: 7" in result.output


@pytest.mark.parametrize(
    "args,expected",
    [
        (["model=v5"], "unknown model 'v5'; choose one of: irv1, irv2, irv2_paper, v3, v4"),
        (["trainer.max_epoch=3"], "did you mean trainer.max_epochs?"),
        (["trainer.max_epochs=abc"], "trainer.max_epochs expects an integer, got 'abc'"),
        (["ema.enabled=3"], "ema.enabled expects true or false"),
        (["-m", "model=v3,v9"], "unknown model 'v9'"),
        (
            ["data=imagenet", "data.root=/no/such/folder"],
            "/no/such/folder/train is missing or empty",
        ),
        (["data=imagenet"], "data=imagenet needs data.root"),
        (["resume=/no/such/run"], "is not a run directory"),
        (["--foo"], "unknown option '--foo'"),
        (["-m", "model=v3,v4", "trainer.devices=2"], "-m/--multirun with several devices"),
    ],
)
def test_bad_train_input_is_one_line_and_exit_2(args: list[str], expected: str) -> None:
    result = runner.invoke(app, ["train", *args])
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_empty_dataset_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    (tmp_path / "val").mkdir()
    result = runner.invoke(app, ["train", "data=imagenet", f"data.root={tmp_path}"])
    assert result.exit_code == 2
    assert "is missing or empty" in result.stderr


def test_resume_needs_a_checkpoint(tmp_path: Path) -> None:
    (tmp_path / ".hydra").mkdir()
    (tmp_path / ".hydra" / "config.yaml").write_text("seed: 0\n")
    result = runner.invoke(app, ["train", f"resume={tmp_path}"])
    assert result.exit_code == 2
    assert "has no checkpoints/last.ckpt" in result.stderr


def test_runs_started_in_the_same_second_get_their_own_directory(tmp_path: Path) -> None:
    from inception_cli.rundir.claims import claim_new_dir

    first = claim_new_dir(tmp_path, "2026-01-01_00-00-00_v4")
    second = claim_new_dir(tmp_path, "2026-01-01_00-00-00_v4")
    assert (first.name, second.name) == ("2026-01-01_00-00-00_v4", "2026-01-01_00-00-00_v4-1")
    assert first.is_dir() and second.is_dir()
