"""What `inception bench` measures: its options and `key=value` overrides, checked together.

Nothing here imports omegaconf, hydra or Lightning: the network modes run where those are absent.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from inception_cli import catalog
from inception_cli.errors import InputError
from inception_cli.hardware import resolve_precision
from inception_cli.measure import precision as precisions

MODES = ("train", "eval", "data", "all")
NETWORK_MODES = ("train", "eval")
# timm: timm's network with the same settings as ours; timm-fp32: timm's network in plain float32
# and NCHW (what a timm user gets by default), against ours with the settings given.
REFERENCES = ("timm", "timm-fp32")
OVERRIDE_HELP = (
    "model=<name> width=<float> num_classes=<int> steps=<int> warmup=<int> "
    "workers=<int,int,...> data.root=<folder> peak_seconds=<float>"
)


@dataclass(frozen=True)
class BenchSettings(precisions.CastSettings):
    model: str = "v4"
    width: float = 1.0
    num_classes: int = 1000
    mode: str = "train"
    batch_size: int = 8
    size: int = 299
    size_given: bool = False  # data mode keeps each data config's own input size unless given
    precision: str = "32"
    channels_last: bool = False
    compile: bool = False
    vs: str | None = None
    repeats: int = 5
    steps: int = 5
    warmup: int = 3
    workers: tuple[int, ...] = (0,)
    data_root: str | None = None
    peak_seconds: float = 2.0
    device: str = "cpu"


def _number(key: str, text: str, kind: type[int] | type[float], minimum: float) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise InputError(
            f"{key}={text!r} must be {'an integer' if kind is int else 'a number'}"
        ) from None
    if value < minimum:
        raise InputError(f"{key}={text} must be at least {minimum:g}")
    return value


def default_workers() -> tuple[int, ...]:
    """0 (loading in the main process) and powers of two up to the number of CPU cores."""
    cores = os.cpu_count() or 1
    counts = [0] + [2**i for i in range(8) if 2**i <= cores]
    return tuple(counts)


def parse_overrides(tokens: Sequence[str]) -> dict[str, Any]:
    """`key=value` tokens into settings; anything else says which keys exist."""
    parsed: dict[str, Any] = {}
    for token in tokens:
        key, equals, value = token.partition("=")
        if not equals or not value:
            raise InputError(f"unknown argument {token!r}; `inception bench` takes {OVERRIDE_HELP}")
        if key == "model":
            if value not in catalog.CATALOG:
                raise InputError(
                    f"unknown model {value!r}; choose one of: {', '.join(sorted(catalog.CATALOG))}"
                )
            parsed["model"] = value
        elif key == "width":
            parsed["width"] = _number(key, value, float, 0.01)
        elif key in ("num_classes", "steps"):
            parsed[key] = _number(key, value, int, 1)
        elif key == "warmup":
            parsed[key] = _number(key, value, int, 0)
        elif key == "peak_seconds":
            parsed[key] = _number(key, value, float, 0.0)
        elif key == "workers":
            counts = [_number(key, part, int, 0) for part in value.split(",")]
            parsed["workers"] = tuple(dict.fromkeys(counts))
        elif key == "data.root":
            parsed["data_root"] = value
        else:
            raise InputError(f"unknown setting {key!r}; `inception bench` takes {OVERRIDE_HELP}")
    return parsed


def make_settings(overrides: Sequence[str], **options: Any) -> BenchSettings:
    """Check the command's options and overrides together; InputError on the first problem."""
    parsed = parse_overrides(overrides)
    mode, precision, vs = options["mode"], str(options["precision"]), options["vs"]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    precision = str(resolve_precision(precision, device, float32="32"))  # as `inception train`
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}; use one of: {', '.join(MODES)}")
    if precision not in precisions.PRECISIONS:
        known = ", ".join(precisions.PRECISIONS)
        raise InputError(f"unknown precision {precision!r}; use one of: {known}")
    if precision == "16-mixed" and device == "cpu":
        raise InputError("--precision 16-mixed needs a GPU; on a CPU use bf16-mixed or 32")
    if precision == "bf16-mixed" and device == "cuda" and not torch.cuda.is_bf16_supported():
        raise InputError("this GPU has no bf16; use --precision 16-mixed or 32")
    name = parsed.get("model", "v4")
    entry = catalog.entry(name)
    if vs is not None:
        if vs not in REFERENCES:
            raise InputError(f"unknown reference --vs {vs!r}; use one of: {', '.join(REFERENCES)}")
        if entry.timm_name is None:
            with_timm = [m for m, e in sorted(catalog.CATALOG.items()) if e.timm_name]
            raise InputError(
                f"--vs timm: {name} has no timm counterpart; compare {', '.join(with_timm)}"
            )
        if parsed.get("width", 1.0) != 1.0:
            raise InputError("--vs timm needs width=1 (timm's networks have no width multiplier)")
        if mode == "data":
            raise InputError("--vs timm compares networks; use --mode train, eval or all")
    size = options["size"] if options["size"] is not None else entry.default_input_size
    if size < entry.min_input_size:
        raise InputError(
            f"--size {size} is below the smallest input of {name} ({entry.min_input_size}); "
            f"use --size {entry.min_input_size} or more"
        )
    batch_size, repeats = options["batch_size"], options["repeats"]
    if batch_size < 1 or repeats < 1:
        raise InputError(f"--batch-size {batch_size} and --repeats {repeats} must be at least 1")
    if batch_size < 2 and mode in ("train", "all"):
        raise InputError("--batch-size 1 cannot train: batch norm needs 2 or more images per step")
    return BenchSettings(
        mode=mode,
        batch_size=batch_size,
        size=size,
        size_given=options["size"] is not None,
        precision=precision,
        channels_last=bool(options["channels_last"]),
        compile=bool(options["compile"]),
        vs=vs,
        repeats=repeats,
        device=device,
        workers=parsed.pop("workers", default_workers()),
        **parsed,
    )
