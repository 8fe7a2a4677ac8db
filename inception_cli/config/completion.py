"""Shell completion of the overrides of `inception train` and `inception config show`: the
options of a config group (`model=<TAB>`: irv1 irv2 ... v3 v4), Hydra's launchers and sweepers,
and the keys of the configs (`trainer.max_<TAB>`). Read from conf/ alone, with no Hydra and no
torch: this runs at every TAB.

Bash splits words at `=`: `model=v<TAB>` reaches the program as `model`, `=`, `v`, so a value
is completed alone when the words before it end with `<key> =`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

from omegaconf import DictConfig, OmegaConf

from inception_cli.config.compose import TRAIN_CONFIG, config_dir, config_groups, group_options

GLOBAL_PACKAGE = "# @package _global_"  # a group whose keys land at the top (experiment, debug)
OVERRIDE_PREFIXES = ("++", "+", "~")


def hydra_group_options() -> dict[str, list[str]]:
    """Hydra's own groups that `inception train` takes: launchers and sweepers."""
    launchers = ["basic", *group_options("hydra/launcher")]
    return {"hydra/launcher": launchers, "hydra/sweeper": ["basic", "optuna"]}


def all_group_options() -> dict[str, list[str]]:
    groups = {group: group_options(group) for group in config_groups()}
    return {**groups, **hydra_group_options()}


def _dotted_keys(node: Any, prefix: str) -> Iterator[str]:
    """The leaf keys of a config, dotted; `defaults` and `_target_`-like keys left out."""
    if not isinstance(node, DictConfig):
        yield prefix
        return
    for key in node:
        name = str(key)
        if name == "defaults" or name.startswith("_"):
            continue
        value = node._get_node(name)
        yield from _dotted_keys(value, f"{prefix}.{name}" if prefix else name)


def _load(path: Any) -> DictConfig | None:
    try:
        loaded = OmegaConf.load(path)
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, DictConfig) else None


@cache
def config_keys() -> list[str]:
    """Every key of train.yaml and of each group's options (all options together)."""
    keys: set[str] = set()
    top = _load(config_dir() / f"{TRAIN_CONFIG}.yaml")
    if top is not None:
        keys.update(_dotted_keys(top, ""))
    for group in config_groups():
        for path in sorted((config_dir() / group).glob("*.yaml")):
            text = path.read_text(errors="replace")
            cfg = _load(path)
            if cfg is None:
                continue
            prefix = "" if GLOBAL_PACKAGE in text else group
            keys.update(_dotted_keys(cfg, prefix))
    return sorted(keys - {""})


def _value_completions(key: str, value: str, *, bare: bool) -> list[str]:
    options = all_group_options().get(key, [])
    matching = [option for option in options if option.startswith(value)]
    return matching if bare else [f"{key}={option}" for option in matching]


def bash_at_equals() -> bool:
    """Whether bash's word under the cursor is a lone `=` (`model=<TAB>`), which click drops
    before the program sees it."""
    words = os.environ.get("COMP_WORDS", "").split()
    cword = os.environ.get("COMP_CWORD", "")
    return cword.isdigit() and int(cword) < len(words) and words[int(cword)] == "="


def complete_override(previous: Sequence[str], incomplete: str) -> list[str]:
    """What may follow the words `previous` (the overrides so far) when `incomplete` is typed."""
    if len(previous) >= 2 and previous[-1] == "=":  # bash: `key`, `=`, then the value
        return _value_completions(previous[-2].lstrip("+~"), incomplete, bare=True)
    if previous and not incomplete and bash_at_equals():  # bash, the cursor just after `=`
        return _value_completions(previous[-1].lstrip("+~"), "", bare=True)
    prefix = next((p for p in OVERRIDE_PREFIXES if incomplete.startswith(p)), "")
    typed = incomplete[len(prefix) :]
    if "=" in typed:
        key, _, value = typed.partition("=")
        return [prefix + item for item in _value_completions(key, value, bare=False)]
    if prefix == "~":  # a deletion names a key or a group, without a value
        candidates = [*all_group_options(), *config_keys()]
        return [prefix + c for c in candidates if c.startswith(typed)]
    candidates = [f"{name}=" for name in (*all_group_options(), *config_keys())]
    return [prefix + c for c in candidates if c.startswith(typed)]
