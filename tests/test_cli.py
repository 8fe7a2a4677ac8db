"""The `inception` command itself: instant help, every command listed, shell completion."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Annotated

import pytest
import typer
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


def command_paths(group: typer.core.TyperGroup, above: list[str]) -> list[list[str]]:
    """Every command of the app, the nested ones included (`config show`, `data pack`)."""
    paths = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, typer.core.TyperGroup):
            paths += command_paths(command, [*above, name])
        else:
            paths.append([*above, name])
    return paths


HELP_PAGES = command_paths(typer.main.get_command(app), [])


def choices_in_the_code() -> dict[tuple[str, str], tuple[object, ...]]:
    """The closed sets of values an option takes, from the modules that check them."""
    from inception_cli.benchmarking.settings import MODES, REFERENCES
    from inception_cli.comparison.options import FORMATS, GROUP_KEYS, METRICS, X_AXES
    from inception_cli.data.crops import CROP_COUNTS
    from inception_cli.data.spec import SPLITS
    from inception_cli.evaluation.settings import PRECISIONS

    return {
        ("eval", "crops"): CROP_COUNTS,
        ("eval", "split"): SPLITS,
        ("eval", "precision"): PRECISIONS,
        ("compare", "metric"): METRICS,
        ("compare", "x"): X_AXES,
        ("compare", "group_by"): GROUP_KEYS,
        ("compare", "fmt"): FORMATS,
        ("bench", "mode"): MODES,
        ("bench", "precision"): PRECISIONS,
        ("bench", "vs"): REFERENCES,
    }


def defaults_in_the_code() -> dict[tuple[str, str], tuple[object, ...]]:
    """Defaults the code decides when an option is left out (its click default is None)."""
    from inception_cli.benchmarking.data import DEFAULT_MAX_SIDE
    from inception_cli.catalog import CATALOG
    from inception_cli.evaluation.settings import DEFAULT_INPUTS_PER_PASS

    return {
        ("eval", "batch_size"): tuple(DEFAULT_INPUTS_PER_PASS.values()),
        ("bench", "max_side"): (DEFAULT_MAX_SIDE,),
        ("bench", "size"): tuple({entry.default_input_size for entry in CATALOG.values()}),
    }


def rendered_help(application: typer.Typer, path: list[str]) -> str:
    """`<path> --help` as a terminal shows it, boxes taken out, whitespace collapsed."""
    result = runner.invoke(application, [*path, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())


def help_problems(command: typer.core.TyperCommand, name: str, shown: str) -> list[str]:
    """What `shown`, the help of `command`, loses of its texts, defaults and choices."""
    choices, decided = choices_in_the_code(), defaults_in_the_code()
    problems = []
    for param in command.params:
        if param.name == "help" or not isinstance(param, typer.core.TyperOption):
            continue
        text = " ".join(str(param.help).split())
        if text not in shown:
            problems.append(f"{param.name}: text lost: {text!r}")
        if param.default is None:
            said = "(default: " in text
        elif isinstance(param.default, bool):
            flag = param.opts[0] if param.default else param.secondary_opts[0]
            said = f"[default: {flag.lstrip('-')}]" in shown
        else:
            said = f"[default: {param.default}]" in shown
        if not said:
            problems.append(f"{param.name}: no default shown")
        for value in choices.get((name, str(param.name)), ()):
            if not re.search(rf"(?<![\w-]){re.escape(str(value))}(?![\w-])", text):
                problems.append(f"{param.name}: the choice {value} is not named")
        for value in decided.get((name, str(param.name)), ()):
            if str(value) not in text.partition("(default: ")[2]:
                problems.append(f"{param.name}: the default {value} is not named")
    return problems


@pytest.mark.parametrize("path", HELP_PAGES, ids=" ".join)
def test_help_shows_every_text_default_and_choice(path: list[str]) -> None:
    """Nothing of a help text is lost (rich reads `[...]` as markup), every option says its
    default (Typer's `[default: ...]`, or `(default: ...)` where the code decides it), and an
    option with a closed set of values names each of them."""
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    shown = rendered_help(app, path)
    assert len(HELP_PAGES) >= 7 and " ".join(str(command.help).split()[:6]) in shown
    assert help_problems(command, path[0], shown) == []


def test_help_check_sees_what_markup_and_missing_defaults_lose() -> None:
    """A default written in square brackets disappears from rich's help, and an option left at
    None says nothing of its default: the check above reports both."""
    probe = typer.Typer()

    @probe.command()
    def eval(
        batch_size: Annotated[int | None, typer.Option(help="Inputs [default: 128].")] = None,
        limit: Annotated[int | None, typer.Option(help="The first N images.")] = None,
    ) -> None:
        """Probe."""

    @probe.command()
    def other() -> None:
        """Another command, so that `eval` is a subcommand as in the real app."""

    command = typer.main.get_command(probe).commands["eval"]
    problems = help_problems(command, "eval", rendered_help(probe, ["eval"]))
    assert "batch_size: text lost: 'Inputs [default: 128].'" in problems
    assert "limit: no default shown" in problems


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
