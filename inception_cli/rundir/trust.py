"""Which code a config read back from a run directory may name: a run directory from elsewhere
could name any callable as a `_target_`, and instantiating it would run that code."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from inception_cli.errors import InputError

# Packages whose callables a config read back from a run directory may instantiate.
TRUSTED_PACKAGES = ("torch", "torchvision", "lightning", "torchmetrics", "timm", "inception_cli")


def untrusted_targets(cfg: Any, trusted: Sequence[str] = TRUSTED_PACKAGES) -> list[str]:
    """The `_target_`s of a config outside the trusted packages (a run directory from elsewhere
    could name any callable; instantiating it would run that code)."""
    found: list[str] = []
    if isinstance(cfg, DictConfig) or OmegaConf.is_list(cfg):
        container = OmegaConf.to_container(cfg, resolve=False)
    else:
        container = cfg
    stack = [container]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            target = node.get("_target_")
            if isinstance(target, str) and target.split(".")[0] not in trusted:
                found.append(target)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def check_trusted_targets(cfg: DictConfig, where: Path, *, trust: bool = False) -> None:
    """Refuse a saved config that would instantiate code outside the trusted packages."""
    found = [] if trust else untrusted_targets(cfg)
    if found:
        raise InputError(
            f"{where} names {found[0]!r} as a _target_, outside {', '.join(TRUSTED_PACKAGES)}; "
            "refusing to instantiate it (add trust_config=true if you trust this run)"
        )
