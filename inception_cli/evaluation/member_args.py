"""What the arguments of `inception eval` name, read without loading anything: run directories
and `model=<name> weights=timm:<tag>` groups. Kept free of torch, so that the output file can
be chosen and created within a second of starting."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from inception_cli.errors import InputError
from inception_cli.rundir import layout

MEMBER_KEYS = ("model", "weights")


def parse_member_args(args: Sequence[str]) -> list[Path | dict[str, str]]:
    """Run directories, and `model=<name> weights=timm:<tag>` groups (a key seen twice starts a
    new group)."""
    specs: list[Path | dict[str, str]] = []
    group: dict[str, str] | None = None
    for token in args:
        key, sep, value = token.partition("=")
        if token.startswith("-"):
            raise InputError(f"unknown option {token!r}; see `inception eval --help`")
        if not sep or Path(token).exists():
            specs.append(Path(token))
            group = None
            continue
        if key not in MEMBER_KEYS:
            raise InputError(
                f"unknown argument {token!r}; give run directories or model=<name> "
                "weights=timm:<tag>"
            )
        if group is None or key in group:
            group = {}
            specs.append(group)
        group[key] = value
    for spec in specs:
        if isinstance(spec, dict) and set(spec) != set(MEMBER_KEYS):
            given = " ".join(f"{key}={value}" for key, value in spec.items())
            raise InputError(
                f"{given!r}: published weights need both model=<name> and weights=timm:<tag>"
            )
    return specs


def configured_runs_root() -> Path:
    """Where `inception train` puts runs: paths.runs_dir of the composed config (./runs)."""
    from inception_cli.config.compose import compose_train_config

    return layout.runs_root(compose_train_config(check=False))


def latest_finished_run(root: Path | None = None) -> Path:
    """The finished run (<root>/<id> or <root>/<sweep>/<n>_<model>) updated last."""
    root = configured_runs_root() if root is None else root
    run_dir = layout.latest_finished_run(root)
    if run_dir is None:
        where = root if root.is_absolute() else f"./{root}"
        raise InputError(
            f"no finished run under {where}; train one with `inception train` or name a run "
            "directory"
        )
    return run_dir


def check_run_dir(run_dir: Path) -> None:
    """A directory with the config of `inception train` (nothing is loaded)."""
    if not run_dir.is_dir():
        raise InputError(
            f"{run_dir} is not a directory; give run directories (runs/<id>) or "
            "model=<name> weights=timm:<tag>"
        )
    if not layout.has_config(run_dir):
        raise InputError(f"{run_dir} has no {layout.CONFIG}; is it a run of `inception train`?")
