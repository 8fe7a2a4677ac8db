"""Every `inception ...` command shown in README.md and docs/*.md still works as written.

Commands are taken from the fenced code blocks (also inside `&&` chains and shell loops, and
over `\\` continuations). Placeholders stand for real things made here: `runs/<id>` (and
`runs/<a>`, `runs/*`, ...) for a finished run, `/data/imagenet` for a tiny ImageNet folder.
Then:
- `inception train ...` goes through every check the command makes before training (in the CLI
  process); where it asks for hardware this machine lacks (GPUs), its config must still compose;
- `inception config show ...` and `inception models` run;
- every other command's options and arguments are parsed by the real command line, which
  rejects an unknown option, a bad value or a missing argument.
A deliberately broken example below shows the check failing.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from inception_cli.cli import app
from inception_cli.config.compose import compose_train_config, first_of_each_sweep
from inception_cli.errors import InputError
from inception_cli.tasks.launch import MULTIRUN_FLAGS, prepare_train_argv

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```")
# What a machine without GPUs cannot run; such a command must compose instead.
NEEDS_HARDWARE = ("has no GPU", "names GPU indices", "needs a GPU")


def fenced_lines(page: Path) -> Iterator[tuple[int, str]]:
    inside, pending, start = False, "", 0
    for number, line in enumerate(page.read_text().splitlines(), 1):
        if FENCE.match(line.strip()):
            inside, pending = not inside, ""
            continue
        if not inside:
            continue
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        yield start, pending + line
        pending = ""


def commands_in(text: str) -> Iterator[str]:
    """`inception ...` commands in one shell line: chains, loops and `srun` prefixes included."""
    text = text.split(" # ")[0].split("  #")[0]
    for part in re.split(r"&&|;|\|", text):
        match = re.search(r"(?:^|\s)(inception\s.*)$", part.strip())
        if match:
            yield match.group(1).strip()


def documented_commands() -> list[tuple[str, str, str | None]]:
    """(where, command, the one-line error shown under it or None). A transcript in the docs,
    `$ inception ...` followed by `error: ...`, is a command that must fail with that line."""
    found: list[tuple[str, str, str | None]] = []
    for page in PAGES:
        lines = list(fenced_lines(page))
        for index, (number, line) in enumerate(lines):
            following = lines[index + 1][1] if index + 1 < len(lines) else ""
            expected = following[len("error: ") :] if line.startswith("$ ") else None
            if expected is not None and not following.startswith("error: "):
                expected = None
            for command in commands_in(line.removeprefix("$ ")):
                found.append((f"{page.relative_to(ROOT)}:{number}", command, expected))
    return found


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Real things for the placeholders: a finished run, a runs folder, a tiny ImageNet."""
    root = tmp_path_factory.mktemp("docs")
    run_dir = root / "runs" / "2026-01-01_00-00-00_irv2"
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "config.yaml").write_text("seed: 0\n")
    (run_dir / "checkpoints").mkdir()
    (run_dir / "summary.json").write_text('{"status": "finished", "epochs": 1}')
    imagenet = root / "imagenet"
    for split in ("train", "val"):
        for wnid in ("n01440764", "n01443537"):
            folder = imagenet / split / wnid
            folder.mkdir(parents=True)
            Image.new("RGB", (80, 60), (120, 30, 200)).save(folder / "a.JPEG")
    return {"run": str(run_dir), "runs": str(root / "runs"), "imagenet": str(imagenet)}


def with_places(command: str, places: dict[str, str]) -> list[str]:
    command = re.sub(r"runs/<[^>]+>|runs/[a-c]\b", places["run"], command)
    command = command.replace("runs/*", places["run"]).replace("<run>", places["run"])
    command = re.sub(
        r"/data/imagenet(/val)?", lambda m: places["imagenet"] + (m.group(1) or ""), command
    )
    if command.count("'") % 2:  # the end of a quoted `bash -c '...'` around the command
        command = command.rstrip("' ")
    for variable, value in LOOP_VALUES.items():  # the shell variables of the docs' loops
        command = command.replace(f"${variable}", value)
    return shlex.split(command)[1:]


LOOP_VALUES = {"model": "v4", "seed": "0", "scale": "0.1", "NODE_RANK": "0", "MASTER": "127.0.0.1"}


def check_train(args: list[str]) -> None:
    try:
        prepare_train_argv(args)
    except InputError as err:
        if not any(reason in str(err) for reason in NEEDS_HARDWARE):
            raise
        overrides = [a for a in args if a not in MULTIRUN_FLAGS]
        compose_train_config(first_of_each_sweep(overrides))


def check_command(args: list[str]) -> None:
    """Raise if the command, as documented, would not work here."""
    if args[:1] == ["train"] and not any(a.startswith("resume=") for a in args):
        check_train(args[1:])
        return
    if args[:2] == ["config", "show"] or args == ["models"]:
        done = CliRunner().invoke(app, args)
        assert done.exit_code == 0, done.output
        return
    command = typer.main.get_command(app)
    context = command.make_context("inception", list(args), resilient_parsing=False)
    with context:
        # Down through the groups (`inception data pack ...`) to the command itself.
        while isinstance(command, typer.core.TyperGroup):
            protected = getattr(context, "_protected_args", None) or getattr(
                context, "protected_args", []
            )
            name, sub, rest = command.resolve_command(context, [*protected, *context.args])
            assert sub is not None
            command, context = sub, sub.make_context(name or "", list(rest), parent=context)
        unknown = [a for a in context.args if a.startswith("-")]
        if unknown:  # commands that pass overrides through reject these when they run
            raise InputError(f"unknown option {unknown[0]!r}")


COMMANDS = documented_commands()


def test_the_docs_show_commands() -> None:
    assert len(COMMANDS) > 40
    shown = {cmd.split()[1] for _, cmd, _ in COMMANDS}
    assert shown >= {"train", "eval", "compare", "models", "bench"}
    assert any(expected for _, _, expected in COMMANDS), "the transcripts of mistakes are found"


@pytest.mark.parametrize("where,command,expected", COMMANDS, ids=[w for w, _, _ in COMMANDS])
def test_a_documented_command_works(
    where: str, command: str, expected: str | None, places: dict[str, str]
) -> None:
    if expected is None:
        check_command(with_places(command, places))
        return
    with pytest.raises(InputError) as refused:
        check_command(with_places(command, places))
    assert str(refused.value) == expected


@pytest.mark.parametrize(
    "broken",
    [
        "inception train model=v5",
        "inception train trainer.max_epoch=3",
        "inception eval --cropz 10",
        "inception compare --formt md runs/*",
        "inception bench --vs timm --repeat 3",
        "inception data pack /data/imagenet /tmp/shards --max-sides 320",
    ],
)
def test_a_broken_documented_command_fails_the_check(broken: str, places: dict[str, str]) -> None:
    with pytest.raises(Exception) as failed:  # noqa: PT011 - InputError or click's usage error
        check_command(with_places(broken, places))
    assert not isinstance(failed.value, TypeError | AttributeError | KeyError), failed.value


def test_the_models_table_in_the_docs_is_the_commands_output() -> None:
    page = (ROOT / "docs" / "models.md").read_text()
    shown = page.split("$ inception models\n", 1)[1].split("\n```", 1)[0]
    done = CliRunner().invoke(app, ["models"], env={"COLUMNS": "80"})
    assert done.exit_code == 0, done.output
    printed = "\n".join(line.rstrip() for line in done.output.splitlines()).strip("\n")
    assert shown.strip("\n") == printed
    assert max(len(line) for line in done.output.splitlines()) <= 80


def test_every_test_the_docs_cite_exists() -> None:
    """The fault tables name the tests that show each behaviour: a renamed or removed test
    must not leave the docs pointing at nothing."""
    sources = "".join(path.read_text() for path in (ROOT / "tests").glob("test_*.py"))
    cited = {name for page in PAGES for name in re.findall(r"::(test_\w+)", page.read_text())}
    assert len(cited) > 20
    assert sorted(name for name in cited if f"def {name}(" not in sources) == []
