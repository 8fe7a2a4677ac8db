"""The `inception` command itself: instant help, every command listed, shell completion."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from inception_cli.cli import app

runner = CliRunner()
COMMANDS = ("train", "eval", "compare", "models", "bench", "config")


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output


def test_cli_module_imports_no_heavy_package(loaded_by_import) -> None:
    heavy = ("torch", "lightning", "wandb", "matplotlib", "timm", "hydra", "torchvision")
    loaded = loaded_by_import("inception_cli.cli", heavy)
    assert loaded == [], f"`inception --help` must stay instant; imported {loaded}"


def test_each_command_has_help() -> None:
    for command in COMMANDS:
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0, command
        assert "Usage" in result.output


def complete(words: str, cword: int) -> list[str]:
    """What bash completion offers for `words` with the cursor on word `cword`, through the
    completion entry point that `inception --install-completion` sets up."""
    env = {**os.environ, "_INCEPTION_COMPLETE": "complete_bash"}
    env.update(COMP_WORDS=words, COMP_CWORD=str(cword))
    done = subprocess.run(
        [sys.executable, "-m", "inception_cli"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_completion_is_installable() -> None:
    result = runner.invoke(app, ["--help"])
    assert "--install-completion" in result.output
    assert "--show-completion" in result.output


def test_completion_of_a_group_lists_its_options() -> None:
    offered = complete("inception train model=", 2)
    assert {"model=v3", "model=v4", "model=irv1", "model=irv2"} <= set(offered)
    assert complete("inception config show optimizer=rms", 3) == [
        "optimizer=rmsprop",
        "optimizer=rmsprop_tf",
    ]
    assert "hydra/sweeper=optuna" in complete("inception train -m hydra/sweeper=", 3)


@pytest.mark.parametrize(
    "words,cword,expected",
    [
        # bash splits at `=`: the cursor on a lone `=`, then on the value after it
        ("inception train model =", 3, {"v3", "v4", "irv1", "irv2"}),
        ("inception train model = v", 4, {"v3", "v4"}),
        ("inception train trainer.max_", 2, {"trainer.max_epochs=", "trainer.max_steps="}),
        ("inception train +hparams", 2, {"+hparams_search="}),
        ("inception tr", 1, {"train"}),
    ],
    ids=["at_equals", "after_equals", "keys", "added_group", "commands"],
)
def test_completion_of_keys_values_and_commands(words: str, cword: int, expected: set[str]) -> None:
    assert expected <= set(complete(words, cword))
