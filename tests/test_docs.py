"""Every `inception ...` command shown in README.md and docs/*.md works as written and trains what
its text says.

Commands are taken from the fenced code blocks (also inside `&&` chains, shell loops, `srun` and
`torchrun` lines, and over `\\` continuations) and from the prose's inline `inception train ...`
with overrides. Placeholders stand for real things made here: `runs/<id>` (and `runs/<a>`,
`runs/*`, ...) for a finished run, `/data/imagenet` for a tiny ImageNet folder (1,000 classes of
one image), `/data/imagenet-shards` and `DST` for its pack. Then:
- `inception train ...` goes through every check the command makes before training (in the CLI
  process); where it asks for what this machine lacks (a GPU, DALI), the same checks run as on a
  machine that has it;
- a train command at scale (a GPU, several devices or nodes, ImageNet) trains what its text says
  (`test_commands_at_scale_train_what_their_text_says`);
- `inception config show ...` and `inception models` run;
- every other command's options and arguments are parsed by the real command line, which
  rejects an unknown option, a bad value or a missing argument.
A deliberately broken example below shows the check failing.

The facts the prose states that have one home in the code are held against it: the experiment
presets' table, the config groups and their options, the extras, the model and weight tables, and
the defaults the docs quote.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import typer
import yaml
from omegaconf import DictConfig, OmegaConf
from PIL import Image
from typer.testing import CliRunner

from inception_cli.cli import app
from inception_cli.config.compose import (
    compose_train_config,
    config_groups,
    first_of_each_sweep,
    parse_overrides,
)
from inception_cli.errors import InputError
from inception_cli.tasks.launch import MULTIRUN_FLAGS, is_distributed, prepare_train_argv

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```")
# What a machine without a GPU (or without DALI) cannot run; such a command is checked again as
# on a machine that has one.
NEEDS_HARDWARE = ("has no GPU", "names GPU indices", "needs a GPU", "needs NVIDIA DALI")
GPU_MACHINE = (
    "inception_cli.training.preflight.has_gpu",
    "inception_cli.data.backends.nvidia_gpu_visible",
    "inception_cli.data.backends.dali_installed",
)
# `python -m <module>` and `torchrun ... -m <module>` lines run the same commands.
MODULES = {"inception_cli.tasks.train": "inception train", "inception_cli": "inception"}


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


def prose_of(page: Path) -> str:
    """The page with its fenced blocks blanked, line numbers kept."""
    kept, inside = [], False
    for line in page.read_text().splitlines():
        fence = bool(FENCE.match(line.strip()))
        inside = inside != fence
        kept.append("" if inside or fence else line)
    return "\n".join(kept)


def commands_in(text: str) -> Iterator[str]:
    """`inception ...` commands in one shell line: chains, loops, `srun` and `torchrun` included."""
    text = text.split(" # ")[0].split("  #")[0]
    for part in re.split(r"&&|;|\|", text):
        part = part.strip()
        module = re.search(r"-m\s+(inception_cli(?:\.tasks\.train)?)\s(.*)$", part)
        if module:
            yield f"{MODULES[module.group(1)]} {module.group(2).strip()}"
            continue
        match = re.search(r"(?:^|\s)(inception\s.*)$", part)
        if match:
            yield match.group(1).strip()


def context_of(lines: list[str], number: int, line: str) -> str:
    """The text that says what a command trains: its own comment, the comment lines right above
    it (`#SBATCH ...` included) and its section's heading, in that order."""
    own = line.partition(" #")[2] if " #" in line else ""
    above = []
    index = number - 2
    while index >= 0 and lines[index].lstrip().startswith("#"):
        above.append(lines[index])
        index -= 1
    heading = next((h for h in reversed(lines[: number - 1]) if re.match(r"#{1,6} ", h)), "")
    return " | ".join([own, *above, heading])


def documented_commands() -> list[tuple[str, str, str | None, str]]:
    """(where, command, the one-line error shown under it or None, its context). A transcript in
    the docs, `$ inception ...` followed by `error: ...`, is a command that must fail with that
    line."""
    found: list[tuple[str, str, str | None, str]] = []
    for page in PAGES:
        where = page.relative_to(ROOT)
        lines = page.read_text().splitlines()
        fenced = list(fenced_lines(page))
        for index, (number, line) in enumerate(fenced):
            following = fenced[index + 1][1] if index + 1 < len(fenced) else ""
            expected = following[len("error: ") :] if line.startswith("$ ") else None
            if expected is not None and not following.startswith("error: "):
                expected = None
            context = context_of(lines, number, line)
            for command in commands_in(line.removeprefix("$ ")):
                found.append((f"{where}:{number}", command, expected, context))
        prose = prose_of(page)
        for match in re.finditer(r"`(inception train [^`]*=[^`]*)`", prose):
            number = prose.count("\n", 0, match.start()) + 1
            context = context_of(lines, number, "")
            found.append((f"{where}:{number}", " ".join(match.group(1).split()), None, context))
    return found


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Real things for the placeholders: a finished run, a runs folder, a tiny ImageNet of 1,000
    classes (as many as the ImageNet presets say) and its pack."""
    from rich.console import Console

    from inception_cli.tasks.data_pack import run_pack

    root = tmp_path_factory.mktemp("docs")
    run_dir = root / "runs" / "2026-01-01_00-00-00_irv2"
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "config.yaml").write_text("seed: 0\n")
    (run_dir / "checkpoints").mkdir()
    (run_dir / "summary.json").write_text('{"status": "finished", "epochs": 1}')
    imagenet, shards = root / "imagenet", root / "imagenet-shards"
    image = root / "a.JPEG"
    Image.new("RGB", (80, 60), (120, 30, 200)).save(image)
    for split in ("train", "val"):
        for number in range(1000):
            folder = imagenet / split / f"n{number:08d}"
            folder.mkdir(parents=True)
            (folder / "a.JPEG").write_bytes(image.read_bytes())
    options: dict[str, Any] = dict(max_side=None, shard_size="256MB", workers=0, limit=None)
    run_pack(imagenet, shards, console=Console(quiet=True), **options)
    return {"run": str(run_dir), "imagenet": str(imagenet), "shards": str(shards)}


def with_places(command: str, places: dict[str, str]) -> list[str]:
    command = re.sub(r"runs/<[^>]+>|runs/[a-c]\b", places["run"], command)
    command = command.replace("runs/*", places["run"]).replace("<run>", places["run"])
    command = re.sub(r"/data/imagenet-shards|(?<![\w/])DST\b", places["shards"], command)
    command = re.sub(
        r"/data/imagenet(/val)?\b(?!-)", lambda m: places["imagenet"] + (m.group(1) or ""), command
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
        with ExitStack() as machine:
            for name in GPU_MACHINE:
                machine.enter_context(mock.patch(name, return_value=True))
            prepare_train_argv(args)


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
    shown = {cmd.split()[1] for _, cmd, _, _ in COMMANDS}
    assert shown >= {"train", "eval", "compare", "models", "bench", "config", "data"}
    assert any(expected for _, _, expected, _ in COMMANDS), "the transcripts of mistakes are found"
    torchrun = "torchrun --nproc-per-node=8 -m inception_cli.tasks.train model=v4  # 8 GPUs"
    assert list(commands_in(torchrun)) == ["inception train model=v4"]


@pytest.mark.parametrize(
    "where,command,expected", [c[:3] for c in COMMANDS], ids=[c[0] for c in COMMANDS]
)
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
        "inception train -m experiment=paper model=v3,v4 data.root=/data/imagenet",
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


# ---- What a command at scale trains -------------------------------------------------------------

PAPER = "experiment=paper"
# The rate follows these by itself (optimizer.lr_reference_batch, optimizer.lr_scaling).
GLOBAL_BATCH_KEYS = {"trainer.devices", "trainer.num_nodes", "data.batch_size"}
DERIVED_ROWS = ("global batch", "learning rate of the run", "sweep")


def markdown_tables(page: Path) -> Iterator[list[list[str]]]:
    """Each Markdown table of a page as rows of cells, the header first (the rule left out); a
    `|` inside backticks stays in its cell."""
    rows: list[list[str]] = []
    for line in prose_of(page).splitlines() + [""]:
        if line.startswith("|"):
            cells = re.split(r"\|(?=(?:[^`]*`[^`]*`)*[^`]*$)", line.strip())[1:-1]
            if not all(set(cell.strip()) <= set("-:") for cell in cells):
                rows.append([cell.strip() for cell in cells])
        elif rows:
            yield rows
            rows = []


def first_code(cell: str) -> str | None:
    found = re.search(r"`([^`]+)`", cell)
    return found.group(1) if found else None


def preset_table() -> dict[str, dict[str, str]]:
    """docs/training.md's table of the experiment presets: {preset: {row label: cell}}."""
    for rows in markdown_tables(ROOT / "docs" / "training.md"):
        header = rows[0]
        if header[0] == "key" and "`experiment=paper`" in header:
            presets = [str(first_code(cell)).partition("=")[2] for cell in header[1:]]
            return {
                preset: {row[0]: row[column] for row in rows[1:]}
                for column, preset in enumerate(presets, 1)
            }
    raise AssertionError("docs/training.md has no table of the experiment presets")


def row_key(label: str) -> str:
    return str(first_code(label)) if "`" in label else label


def choices() -> dict[str, Any]:
    from hydra.core.hydra_config import HydraConfig

    return dict(HydraConfig.get().runtime.choices)


def value_of(cfg: DictConfig, key: str) -> Any:
    if key.endswith("="):
        return choices()[key[:-1]]
    return OmegaConf.select(cfg, key, throw_on_missing=False)


def same(shown: Any, actual: Any) -> bool:
    """A value written in the docs against the config's: numbers to the digits written."""
    if (
        isinstance(shown, float)
        and isinstance(actual, int | float)
        and not isinstance(actual, bool)
    ):
        decimals = len(repr(shown).partition(".")[2])
        return round(float(actual), decimals) == shown
    return bool(shown == actual) and type(shown) is type(actual)


def composed_as_trained(overrides: list[str]) -> DictConfig:
    """The first job's config as the training process has it (devices and nodes from a SLURM
    launcher included)."""
    from hydra.core.hydra_config import HydraConfig

    from inception_cli.training.cluster import apply_launcher

    cfg = compose_train_config(first_of_each_sweep(overrides), check=False)
    apply_launcher(cfg, HydraConfig.get().launcher)
    return cfg


def at_scale(cfg: DictConfig) -> bool:
    gpu = str(cfg.trainer.accelerator) in ("gpu", "cuda") or cfg.data.get("backend") == "dali"
    return gpu or is_distributed(cfg) or cfg.data.name in ("imagenet", "shards")


def given_values(overrides: list[str]) -> dict[str, Any]:
    """What the command sets itself, keyed as the preset table keys it (`data=` for a group)."""
    groups = config_groups()
    given: dict[str, Any] = {}
    for override in parse_overrides(first_of_each_sweep(overrides)):
        if override.is_delete():
            continue
        key = override.key_or_group
        given[f"{key}=" if key in groups else key] = override.value()
    return given


def counts_promised(context: str) -> dict[str, int]:
    """The GPUs and nodes the text names: `8 GPUs`, `2 machines`, `4 nodes`, `#SBATCH --nodes`."""
    promised: dict[str, int] = {}
    for key, pattern in (
        ("trainer.devices", r"(\d+) GPUs|--ntasks-per-node=(\d+)"),
        ("trainer.num_nodes", r"(\d+) (?:nodes|machines)|--nodes=(\d+)"),
    ):
        found = re.search(pattern, context)
        if found:
            promised[key] = int(next(group for group in found.groups() if group))
    return promised


def broken_promises(command: str, context: str, places: dict[str, str]) -> list[str] | None:
    """What a train command at scale trains that its text does not say; None when it runs on
    the CPU on small data."""
    overrides = [a for a in with_places(command, places)[1:] if a not in MULTIRUN_FLAGS]
    cfg = composed_as_trained(overrides)
    if not at_scale(cfg):
        return None
    given = given_values(overrides)
    expected: dict[str, Any] = {}
    if given.get("experiment=") == PAPER.partition("=")[2]:
        paper = preset_table()["paper"]
        for label, cell in paper.items():
            if not label.startswith(DERIVED_ROWS) and first_code(cell) is not None:
                expected[row_key(label)] = yaml.safe_load(str(first_code(cell)))
    elif "model.width" not in given or not {"trainer.max_epochs", "trainer.max_steps"} & set(given):
        return [
            "without experiment=paper or its own model.width and trainer.max_epochs (or "
            "max_steps) it trains the quick look's quarter width for five epochs"
        ]
    expected.update({key: value for key, value in given.items() if key in expected})
    expected.update(counts_promised(context))
    problems = [
        f"{key}={value_of(cfg, key)!r}, the text says {value!r}"
        for key, value in expected.items()
        if not same(value, value_of(cfg, key))
    ]
    if "optimizer.lr" in given and set(given) & GLOBAL_BATCH_KEYS:
        problems.append("optimizer.lr changed with the global batch, which already scales it")
    return problems


def test_commands_at_scale_train_what_their_text_says(places: dict[str, str]) -> None:
    """With `experiment=paper` a command trains the recipe of docs/training.md's preset table,
    less what it overrides itself; without it, it names the width and the length it trains
    (else the quick look's quarter width and five epochs would pass for the recipe); and the
    GPUs and nodes its comment or heading names are the devices and nodes it gets."""
    checked, wrong = 0, []
    for where, command, expected, context in COMMANDS:
        if not command.startswith("inception train") or expected or "resume=" in command:
            continue
        problems = broken_promises(command, context, places)
        checked += problems is not None
        wrong += [f"{where}: {command}: {problem}" for problem in problems or []]
    assert checked >= 10, "the commands at scale are found"
    assert wrong == []


def test_a_quick_look_command_cannot_pass_for_the_recipe(places: dict[str, str]) -> None:
    heading = "## One node, 8 GPUs"
    quick = "inception train model=irv2 trainer=8gpu data=imagenet data.root=/data/imagenet"
    assert broken_promises(quick, heading, places)
    paper = "inception train experiment=paper model=irv2 data.root=/data/imagenet"
    assert broken_promises(paper, heading, places) == []
    assert broken_promises(paper, "# 4 GPUs", places) == ["trainer.devices=8, the text says 4"]
    halved = f"{paper} trainer.devices=4 optimizer.lr=0.0225"
    assert broken_promises(halved, "# 4 GPUs", places) == [
        "optimizer.lr changed with the global batch, which already scales it"
    ]


# ---- Facts with one home in the code ------------------------------------------------------------


def test_the_preset_table_is_what_the_presets_compose_to(tmp_path: Path) -> None:
    from hydra.core.hydra_config import HydraConfig

    from inception_cli.config.compose import group_options
    from inception_cli.training.cluster import global_batch
    from inception_cli.training.optimizers import effective_lr

    table = preset_table()
    assert sorted(table) == group_options("experiment"), "one column per conf/experiment/ file"
    for preset, rows in table.items():
        cfg = compose_train_config([f"experiment={preset}", f"data.root={tmp_path}"])
        batch = global_batch(cfg)
        sweep = OmegaConf.select(HydraConfig.get(), "sweeper.params") or {}
        computed = {
            "global batch": batch,
            "learning rate of the run": effective_lr(cfg.optimizer, batch),
            "sweep": ", ".join(f"{key}={value}" for key, value in sweep.items()) or None,
        }
        assert len(rows) > 15
        for label, cell in rows.items():
            if label.startswith("sweep"):
                written = ", ".join(re.findall(r"`([^`]+)`", cell)) or None
                assert written == computed["sweep"], (preset, label)
                continue
            actual = computed[label] if label in computed else value_of(cfg, row_key(label))
            shown = yaml.safe_load(str(first_code(cell)))
            assert same(shown, actual), (
                f"{preset}, {label}: the table says {shown!r}, not {actual!r}"
            )


def named_options(text: str) -> set[str]:
    """The options a list names: `rmsprop (default), rmsprop_tf (`experiment=paper`), sgd`."""
    return {part.split()[0] for part in re.sub(r"\([^)]*\)", "", text).split(",") if part.strip()}


def test_config_group_lists_name_every_option() -> None:
    from inception_cli.config.compose import group_options

    compose_train_config([])
    defaults = choices()
    readme = " ".join((ROOT / "README.md").read_text().split())
    listed = dict(re.findall(r"`(\w+)/` \(([^()]*)\)", readme))
    table = next(t for t in markdown_tables(ROOT / "docs" / "training.md") if t[0][0] == "group")
    rows = {str(first_code(row[0])): row[1] for row in table[1:]}
    for group in config_groups():
        assert group in listed and group in rows, (
            f"README.md and docs/training.md list conf/{group}/"
        )
        words = set(re.findall(r"\w+", listed[group]))
        assert set(group_options(group)) <= words, (group, listed[group])
        assert named_options(rows[group]) == set(group_options(group)), (group, rows[group])
        marked = re.findall(r"(\w+) \(default\)", rows[group])
        default = defaults.get(group)
        if default is not None and default != "default" and len(group_options(group)) > 1:
            assert marked == [default], f"docs/training.md marks {default} (default) in {group}"
        assert set(marked) <= {default}, (group, marked)
    data = next(t for t in markdown_tables(ROOT / "docs" / "data.md") if t[0][0] == "`data=`")
    assert {str(first_code(row[0])) for row in data[1:]} == set(group_options("data"))


def test_the_extras_the_docs_name_exist_and_add_packages() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    core = {re.split(r"[<>=\[ ;]", r)[0].lower() for r in project["dependencies"]}
    named = set()
    for page in PAGES:
        named |= set(re.findall(r"(?:inception-paper-lab|\.)\[(\w+)\]'", page.read_text()))
    assert {"test", "optuna", "slurm", "tensorboard", "dali"} <= named
    for extra in named:
        assert extra in extras, f"the docs name the extra [{extra}], which pyproject.toml lacks"
        brought = {re.split(r"[<>=\[ ;]", r)[0].lower() for r in extras[extra]}
        assert brought - core - {"inception-paper-lab"}, f"[{extra}] installs nothing new"


def test_the_model_and_weight_tables_are_the_catalogs() -> None:
    from inception_cli import catalog
    from inception_cli.tasks.models_table import models_table

    tables = list(markdown_tables(ROOT / "docs" / "models.md"))
    models = next(t for t in tables if t[0][:2] == ["name", "network"])
    weights = next(t for t in tables if t[0] == ["name", "weights"])
    cost = next(t for t in tables if t[0][:3] == ["name", "params, width 1.0", "GMACs"])
    assert {str(first_code(row[0])) for row in models[1:]} == set(catalog.CATALOG)
    for row in models[1:]:
        has = bool(catalog.entry(str(first_code(row[0]))).pretrained_tags)
        assert row[3] == ("timm" if has else "none"), row
    shown = {str(first_code(r[0])): set(re.findall(r"`timm:([^`]+)`", r[1])) for r in weights[1:]}
    assert shown == {
        n: set(e.pretrained_tags) for n, e in catalog.CATALOG.items() if e.pretrained_tags
    }
    counted = {row["name"]: row for row in models_table()}
    for row in cost[1:]:
        model = counted[str(first_code(row[0]))]
        assert int(row[1].replace(",", "")) == model["params"], row
        assert float(row[2]) == round(model["gflops"] / 2, 2), row


OPTION_TABLES = {"eval.md": ["eval"], "compare.md": ["compare"], "performance.md": ["bench"]}
OPTION_TABLES["data.md"] = ["data", "pack"]


def click_command(path: list[str]) -> Any:
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    return command


def help_default(param: Any) -> str:
    found = re.search(r"\(default: ([^)]*)\)", " ".join((param.help or "").split()))
    return found.group(1).lower() if found else ""


@pytest.mark.parametrize("page", sorted(OPTION_TABLES))
def test_option_defaults_in_the_docs_are_the_commands(page: str) -> None:
    """Each option table's default column against the command: the value it defaults to, or the
    words its `--help` gives for a default the code decides."""
    params = {f"--{p.name.replace('_', '-')}": p for p in click_command(OPTION_TABLES[page]).params}
    params["--format"] = params.get("--format", params.get("--fmt"))
    checked = 0
    for rows in markdown_tables(ROOT / "docs" / page):
        if "option" not in rows[0] or "default" not in rows[0]:
            continue
        column = rows[0].index("default")
        for row in rows[1:]:
            option = next(iter(re.findall(r"`(--[\w-]+)", row[0])), None)
            if option is None:
                continue
            param, written = params[option], row[column].replace("`", "")
            written = re.sub(r"\s*\([^)]*\)$", "", written).lower()
            if isinstance(param.default, bool):
                assert written == ("on" if param.default else "off"), (page, option)
            elif param.default is not None:
                assert written == str(param.default).lower(), (page, option)
            else:
                assert help_default(param).startswith(written), (page, option, written)
            checked += 1
    assert checked >= 4


def test_config_defaults_quoted_in_the_docs_are_the_configs() -> None:
    """`key` (value) in the prose, for a key of the default config, and the key=value settings
    of `inception bench` against their defaults."""
    from inception_cli.benchmarking.settings import BenchSettings

    cfg = compose_train_config([])
    quoted = []
    for page in PAGES:
        text = " ".join(prose_of(page).split())
        for key, word, number in re.findall(
            r"`([a-z_]+(?:\.[a-z_]+)+)` \((?:`([^`]+)`\)|(-?[\d.]+(?:e-?\d+)?)[,)])", text
        ):
            value = OmegaConf.select(cfg, key, default=None)
            if value is not None:
                quoted.append(key)
                assert same(yaml.safe_load(word or number), value), (page.name, key, value)
    assert len(quoted) >= 4
    table = next(t for t in markdown_tables(ROOT / "docs" / "performance.md") if t[0][0] == "key")
    settings, checked = BenchSettings(), 0
    for row in table[1:]:
        key, written = str(first_code(row[0])), yaml.safe_load(row[1].strip("`"))
        if hasattr(settings, key) and not (isinstance(written, str) and " " in written):
            assert same(written, getattr(settings, key)), row
            checked += 1
    assert checked >= 5


# The worked example of docs/architecture.md, a file a reader would add.
EXAMPLES = {"conf/model/v4_wide.yaml"}


def test_every_file_the_docs_name_exists() -> None:
    """Paths of this repository (`inception_cli/config/rules.py`, `training/sampling.py`) and
    bare module names (`rmsprop_tf.py`): a module that moves must not leave its old name."""
    package = ROOT / "inception_cli"
    roots = {"inception_cli", "conf", "tests", "benchmarks", "docs", ".ci"}
    roots |= {p.name for p in package.iterdir() if p.is_dir()}
    modules = {
        p.name for d in ("inception_cli", "tests", "benchmarks") for p in ROOT.glob(f"{d}/**/*.py")
    }
    missing = []
    for page in PAGES:
        text = page.read_text()
        for path in re.findall(r"(?<![\w./<>-])((?:[\w.-]+/)+[\w-]+\.(?:py|yaml|sh))\b", text):
            if path.split("/")[0] not in roots or path in EXAMPLES:
                continue
            if not any((ROOT / base / path).exists() for base in ("", "inception_cli")):
                missing.append(f"{page.name}: {path}")
        for name in re.findall(r"(?<![\w./-])(\w+\.py)\b", text):
            if name not in modules:
                missing.append(f"{page.name}: {name}")
    assert missing == []


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
