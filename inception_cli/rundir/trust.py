"""A run directory from elsewhere is data, never code.

`inception train resume=<dir>` does not hand the saved `.hydra/` to Hydra: a config there could
name any callable as a `_target_`, pull other files in through a `defaults:` list, or set Hydra's
own callbacks and environment, and instantiating any of it would run that code. Instead the run
is composed again from the tool's own `conf/` and the run's saved overrides (which may only
choose options and set values), and the saved config is only compared with the result: a
difference (an edited config, or one made by another version of the tool) refuses the run with
one line naming the key. `trust_config=true` runs the saved config as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from inception_cli.errors import InputError

# Not compared: where new runs go, the run to resume, and the loggers (a continuation may log
# elsewhere, and W&B's offline mode follows the environment). None of them is read from the
# saved config either: the resumed run takes them from conf/ and its overrides.
NOT_COMPARED = ("resume", "paths", "logger")
TRUST_HINT = "add trust_config=true to run the saved config as it is, if you trust this run"


def check_saved_overrides(overrides: Sequence[Any], where: Path) -> list[str]:
    """The saved overrides, if each only chooses a config option or sets a value."""
    checked: list[str] = []
    for override in overrides:
        text = str(override)
        key = text.partition("=")[0].lstrip("+~")
        why = None
        if not isinstance(override, str):
            why = "is not an override"
        elif key.split(".")[0].split("/")[0] == "hydra":
            why = "sets Hydra's own settings"
        elif "_target_" in text or "${" in text:
            why = "names code or an interpolation"
        if why is not None:
            raise InputError(f"{where}: {text!r} {why}; {TRUST_HINT}")
        checked.append(text)
    return checked


def differences(saved: Any, composed: Any, key: str = "") -> list[tuple[str, Any, Any]]:
    """Every key (dotted) where two plain configs differ, with both values."""
    if isinstance(saved, dict) and isinstance(composed, dict):
        found: list[tuple[str, Any, Any]] = []
        for name in [*saved, *(k for k in composed if k not in saved)]:
            where = f"{key}.{name}" if key else str(name)
            found += differences(saved.get(name), composed.get(name), where)
        return found
    return [] if saved == composed else [(key, saved, composed)]


def names_code(difference: tuple[str, Any, Any]) -> bool:
    key, saved, _ = difference
    return key.endswith("_target_") or "_target_" in str(saved)


def check_same_config(saved: DictConfig, composed: DictConfig, where: Path) -> None:
    """Refuse a saved config that is not what conf/ composes for the run's overrides, naming
    first a difference that would have run code."""
    plain: list[Any] = [
        OmegaConf.to_container(cfg, resolve=resolve)
        for cfg, resolve in ((saved, False), (composed, True))
    ]
    for config in plain:
        for key in NOT_COMPARED:
            config.pop(key, None)
    found = sorted(differences(*plain), key=lambda difference: not names_code(difference))
    if found:
        key, was, now = found[0]
        raise InputError(
            f"{where} has {key}={was!r} where conf/ composes {now!r} for the run's overrides "
            f"(an edited config, or one from another version of the tool); {TRUST_HINT}"
        )
