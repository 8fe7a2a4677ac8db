"""Finding, composing and checking the Hydra configs (hydra and omegaconf only: no torch here)."""

from __future__ import annotations

import difflib
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from inception_cli.config.resolvers import register_resolvers
from inception_cli.config.rules import OWN_TYPES
from inception_cli.errors import InputError, first_line
from inception_cli.rundir import layout

TRAIN_CONFIG = "train"


def config_dir() -> Path:
    """conf/ inside an installed wheel, or the repository's conf/ in a source checkout."""
    package_dir = Path(__file__).resolve().parents[1]  # inception_cli/
    for candidate in (package_dir / "conf", package_dir.parent / "conf"):
        if (candidate / f"{TRAIN_CONFIG}.yaml").is_file():
            return candidate
    raise RuntimeError(f"no conf/{TRAIN_CONFIG}.yaml next to {package_dir}: broken installation")


def group_options(group: str) -> list[str]:
    folder = config_dir() / group
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def config_groups() -> list[str]:
    return sorted(p.name for p in config_dir().iterdir() if p.is_dir() and p.name != "hydra")


def compose_train_config(overrides: Sequence[str] = (), *, check: bool = True) -> DictConfig:
    """The training config for these overrides, with `hydra:` interpolations resolvable."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig

    register_resolvers()
    overrides = list(overrides)
    if check:
        check_overrides(overrides)
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        try:
            cfg = compose(TRAIN_CONFIG, overrides=overrides, return_hydra_config=True)
        except Exception as err:
            raise InputError(explain_compose_error(err, overrides)) from None
    # `${hydra:runtime.output_dir}` needs a HydraConfig even when nothing runs.
    OmegaConf.set_readonly(cfg.hydra, False)
    cfg.hydra.runtime.output_dir = str(Path(cfg.hydra.run.dir).absolute())
    HydraConfig.instance().set_config(cfg)
    return OmegaConf.masked_copy(cfg, [str(k) for k in cfg if k != "hydra"])


def parse_overrides(overrides: Sequence[str]) -> list[Any]:
    """Hydra's reading of the overrides; a syntax error becomes one line."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        return list(OverridesParser.create().parse_overrides(list(overrides)))
    except Exception as err:
        raise InputError(
            f"cannot parse overrides {' '.join(overrides)!r}: {first_line(err)}"
        ) from None


def check_overrides(overrides: Sequence[str]) -> None:
    """Turn the usual override mistakes into one line that says what to do."""
    parsed = parse_overrides(overrides)
    groups = config_groups()
    selections = [o for o in parsed if o.key_or_group in groups and not o.is_delete()]
    for override in selections:
        for value in _values_of(override):
            if value is not None and str(value) not in group_options(override.key_or_group):
                options = ", ".join(group_options(override.key_or_group))
                raise InputError(
                    f"unknown {override.key_or_group} {value!r}; choose one of: {options}"
                )
    check_launcher(parsed)
    check_sweeper(parsed)
    defaults = _compose_plain(first_of_each_sweep([str(o.input_line) for o in selections]))
    for override in parsed:
        key = override.key_or_group
        if key in groups or key.split(".")[0].split("/")[0] == "hydra" or override.is_delete():
            continue
        if override.is_add() or override.is_force_add():
            continue
        if not _has_key(defaults, key):
            raise InputError(_unknown_key_message(defaults, key))
        if key in OWN_TYPES:
            continue  # checked against its rule (config/rules.py) once composed
        current = OmegaConf.select(defaults, key, throw_on_missing=False)
        for value in _values_of(override):
            _check_type(key, current, value)


LAUNCHER_GROUP = "hydra/launcher"
LAUNCHER_EXTRAS = {"slurm": "slurm"}  # launcher option -> the extra that installs its plugin


def launcher_choice(overrides: Sequence[str]) -> str | None:
    """The `hydra/launcher=` option the overrides select, if any."""
    chosen = [o.partition("=")[2] for o in overrides if o.startswith(f"{LAUNCHER_GROUP}=")]
    return chosen[-1] if chosen else None


def check_launcher(parsed: list[Any]) -> None:
    """`hydra/launcher=` names one of ours (conf/hydra/launcher/) or Hydra's basic launcher, and
    its plugin is installed."""
    for override in parsed:
        if override.key_or_group != LAUNCHER_GROUP:
            continue
        known = ["basic", *sorted(p.stem for p in (config_dir() / LAUNCHER_GROUP).glob("*.yaml"))]
        for value in _values_of(override):
            if str(value) not in known:
                raise InputError(
                    f"unknown hydra/launcher {value!r}; choose one of: {', '.join(known)}"
                )
            extra = LAUNCHER_EXTRAS.get(str(value))
            if extra and importlib.util.find_spec("hydra_plugins.hydra_submitit_launcher") is None:
                raise InputError(
                    f"hydra/launcher={value} needs Hydra's submitit launcher: "
                    f"pip install 'inception-paper-lab[{extra}]'"
                )


SWEEPER_GROUP = "hydra/sweeper"
SEARCH_GROUP = "hparams_search"  # conf/hparams_search/: searches with the Optuna sweeper
# sweeper option -> (the module of its plugin, the extra that installs it)
SWEEPER_PLUGINS = {"optuna": ("hydra_plugins.hydra_optuna_sweeper", "optuna")}


def check_sweeper(parsed: list[Any]) -> None:
    """`hydra/sweeper=` names Hydra's basic sweeper or a plugin that is installed, as does an
    `hparams_search=` config (Optuna); `interval(...)` values need a sweeper that samples."""
    chosen = [str(v) for o in parsed if o.key_or_group == SWEEPER_GROUP for v in _values_of(o)]
    searches = [o for o in parsed if o.key_or_group == SEARCH_GROUP and not o.is_delete()]
    if any(value is not None for o in searches for value in _values_of(o)):
        chosen.append("optuna")
    for value in chosen:
        if value != "basic" and value not in SWEEPER_PLUGINS:
            known = ", ".join(["basic", *SWEEPER_PLUGINS])
            raise InputError(f"unknown hydra/sweeper {value!r}; choose one of: {known}")
        module, extra = SWEEPER_PLUGINS.get(value, (None, None))
        if module and importlib.util.find_spec(module) is None:
            raise InputError(
                f"hydra/sweeper={value} needs Hydra's {value} sweeper: "
                f"pip install 'inception-paper-lab[{extra}]'"
            )
    sampled = [o for o in parsed if o.is_sweep_override() and _is_interval(o)]
    if sampled and not any(value != "basic" for value in chosen):
        raise InputError(
            f"{sampled[0].input_line} is sampled by a search: add hydra/sweeper=optuna "
            "(and -m), or list values: key=a,b,c"
        )


def _is_interval(override: Any) -> bool:
    from hydra.core.override_parser.types import IntervalSweep

    return isinstance(override.value(), IntervalSweep)


def _has_key(cfg: DictConfig, key: str) -> bool:
    parent_key, _, leaf = key.rpartition(".")
    parent = OmegaConf.select(cfg, parent_key, throw_on_missing=False) if parent_key else cfg
    return isinstance(parent, DictConfig) and leaf in list(parent.keys())


def _compose_plain(overrides: list[str]) -> DictConfig:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        try:
            return compose(TRAIN_CONFIG, overrides=overrides)
        except Exception as err:
            raise InputError(explain_compose_error(err, overrides)) from None


def _values_of(override: Any) -> list[Any]:
    if override.is_sweep_override():
        if _is_interval(override):  # interval(a,b) is sampled by a sweeper: check its ends
            return [override.value().start, override.value().end]
        return list(override.sweep_iterator())
    return [override.value()]


def first_of_each_sweep(overrides: list[str]) -> list[str]:
    """The overrides of the first job of a sweep: `model=v3,irv1` becomes `model=v3`."""
    parsed = parse_overrides(overrides)
    result: list[str] = []
    for override in parsed:
        if override.is_sweep_override():
            first = _values_of(override)[0]
            prefix = "+" if override.is_add() else ""
            result.append(f"{prefix}{override.key_or_group}={first}")
        else:
            result.append(str(override.input_line))
    return result


def _unknown_key_message(cfg: DictConfig, key: str) -> str:
    parent_key, _, leaf = key.rpartition(".")
    parent = OmegaConf.select(cfg, parent_key) if parent_key else cfg
    if not isinstance(parent, DictConfig):
        return f"unknown config key {key!r}: {parent_key!r} has no sub-keys"
    known = [str(k) for k in parent]
    close = difflib.get_close_matches(leaf, known, n=1)
    prefix = f"{parent_key}." if parent_key else ""
    hint = f"did you mean {prefix}{close[0]}?" if close else f"known keys: {', '.join(known)}"
    return f"unknown config key {key!r}; {hint} (use +{key}=... to add a new key)"


def _check_type(key: str, current: Any, value: Any) -> None:
    if value is None or current is None:
        return
    expected: tuple[type, ...] | None = None
    if isinstance(current, bool):
        expected, name = (bool,), "true or false"
    elif isinstance(current, int):
        expected, name = (int,), "an integer"
    elif isinstance(current, float):
        expected, name = (int, float), "a number"
    if expected is None:
        return
    # bool is an int in Python, but `trainer.max_epochs=true` is a mistake all the same
    if (isinstance(value, bool) and bool not in expected) or not isinstance(value, expected):
        raise InputError(f"{key} expects {name}, got {value!r}")


def explain_compose_error(err: Exception, overrides: Sequence[str]) -> str:
    message = first_line(err)
    cause = err.__cause__
    if cause is not None and "struct" in str(cause):
        message = first_line(cause)
    return f"{message} (overrides: {' '.join(overrides) or 'none'})"


def load_run_config(run_dir: Path) -> DictConfig:
    """The saved, resolved config of a run directory."""
    try:
        cfg: DictConfig = layout.load_config(run_dir)
    except (OSError, ValueError):
        raise InputError(
            f"{run_dir} is not a run directory (no readable {layout.CONFIG}); "
            "pass a directory made by `inception train`, e.g. runs/<id>"
        ) from None
    return cfg


def check_data(cfg: DictConfig) -> None:
    from inception_cli.data import check_data_config

    check_data_config(cfg.data)


def print_config(cfg: DictConfig, *, resolve: bool = True) -> None:
    from rich.console import Console
    from rich.syntax import Syntax

    text = OmegaConf.to_yaml(cfg, resolve=resolve)
    Console().print(Syntax(text, "yaml", theme="ansi_dark", background_color="default"))
