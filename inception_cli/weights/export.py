"""Our networks written for use without this tool: timm (safetensors and timm's config.json),
ONNX and TorchScript, each checked against the network's own logits before it is kept.

The timm export is the inverse of `pretrained.convert_timm_state_dict`: our keys are timm's, so
only the auxiliary classifier (a training-time head that timm's default Inception-v3 lacks) is
left out. Every file records where it came from (`metadata`): safetensors metadata, ONNX
`metadata_props`, or `inception.json` among a TorchScript archive's extra files.

torch, timm, onnx and onnxruntime are imported inside the functions that use them, so that the
checks before an export (format, dependencies, timm architecture) answer at once.
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inception_cli import catalog
from inception_cli.errors import InputError, first_line
from inception_cli.models.scales import DEFAULT_RESIDUAL_SCALE, stage_scales

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = [
    "FORMATS",
    "ExportSource",
    "check_format",
    "check_timm_architecture",
    "to_timm_state_dict",
    "timm_config",
    "write_export",
]

FORMATS = ("timm", "onnx", "torchscript")
# The largest difference from our logits, relative to their largest magnitude, that an export
# may show: timm runs the same operations; ONNX Runtime and TorchScript fuse and reorder some.
TOLERANCE = {"timm": 1e-5, "onnx": 1e-4, "torchscript": 1e-4}
# The Python modules each format needs, and the extra that installs them.
NEEDS = {
    "timm": (("timm", "safetensors"), "timm"),
    "onnx": (("onnx", "onnxruntime"), "onnx"),
    "torchscript": ((), ""),
}
WEIGHTS_FILE, CONFIG_FILE = "model.safetensors", "config.json"  # timm's local-dir: layout
ONNX_FILE, TORCHSCRIPT_FILE, METADATA_FILE = "model.onnx", "model.pt", "inception.json"
ONNX_OPSET = 17  # ONNX Runtime 1.14 (2023) and later run it
# The export traces batches of one size and is checked on another: the batch axis is dynamic.
EXPORT_BATCH, CHECK_BATCH = 2, 3


@dataclass(frozen=True)
class ExportSource:
    """A network to export, with what a user of the files needs to know about it."""

    name: str  # the catalog's model name
    model: nn.Module
    model_cfg: dict[str, Any]  # the arguments it was built with (width, residual_scale ...)
    preprocessing: dict[str, Any]  # input_size, crop_fraction, interpolation, mean, std
    in_chans: int
    num_classes: int
    metadata: dict[str, str] = field(default_factory=dict)  # where the weights came from


def check_format(fmt: str) -> None:
    """InputError for an unknown format or one whose packages are not installed."""
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    modules, extra = NEEDS[fmt]
    missing = [module for module in modules if importlib.util.find_spec(module) is None]
    if missing:
        raise InputError(
            f"--format {fmt} needs {' and '.join(missing)}, which is not installed; "
            f"install it with: pip install 'inception-paper-lab[{extra}]'"
        )


def check_timm_architecture(name: str, model_cfg: dict[str, Any]) -> str:
    """The timm architecture that runs model `name` built with `model_cfg` unchanged; InputError
    when timm has none (irv1, irv2_paper, another width or residual scale)."""
    timm_name = catalog.entry(name).timm_name
    other = "export it with --format onnx or torchscript"
    if timm_name is None:
        known = ", ".join(n for n, e in catalog.CATALOG.items() if e.timm_name)
        raise InputError(f"timm has no architecture for model {name!r} (only for {known}); {other}")
    width = float(model_cfg.get("width", 1.0))
    if width != 1.0:
        raise InputError(
            f"timm's {timm_name} has width 1 only, this run has width {width}; {other}"
        )
    scales = stage_scales(model_cfg.get("residual_scale", DEFAULT_RESIDUAL_SCALE))
    if "residual_scale" in model_cfg and scales != DEFAULT_RESIDUAL_SCALE:
        raise InputError(
            f"timm's {timm_name} scales residuals by {list(DEFAULT_RESIDUAL_SCALE)}, this run by "
            f"{list(scales)}; {other}"
        )
    return timm_name


def to_timm_state_dict(name: str, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Our state dict on timm's keys (the inverse of `convert_timm_state_dict`): the same keys,
    without the auxiliary classifier, as contiguous tensors (safetensors stores no strides).
    ValueError for a model with no timm counterpart."""
    from inception_cli.weights.pretrained import convert_timm_state_dict

    same_keys = convert_timm_state_dict(name, state_dict)  # timm's keys are ours
    return {key: value.detach().contiguous() for key, value in same_keys.items()}


def timm_config(source: ExportSource, timm_name: str) -> dict[str, Any]:
    """timm's config.json for the exported weights: the architecture, the number of classes and
    the pretrained config (input size, crop, interpolation, mean and std of the run's data)."""
    import timm

    default = timm.models.get_pretrained_cfg(timm_name)
    if default is None:
        raise InputError(f"timm {timm.__version__} has no {timm_name}; pip install 'timm>=1.0'")
    size = int(source.preprocessing["input_size"])
    return {
        "architecture": timm_name,
        "num_classes": source.num_classes,
        "pretrained_cfg": {
            "custom_load": False,
            "input_size": [source.in_chans, size, size],
            "fixed_input_size": False,
            "interpolation": str(source.preprocessing["interpolation"]),
            "crop_pct": float(source.preprocessing["crop_fraction"]),
            "crop_mode": "center",
            "mean": [float(m) for m in source.preprocessing["mean"]],
            "std": [float(s) for s in source.preprocessing["std"]],
            "num_classes": source.num_classes,
            "pool_size": list(default.pool_size or ()),
            "first_conv": default.first_conv,
            "classifier": default.classifier,
        },
    }


def _inputs(source: ExportSource, batch: int) -> torch.Tensor:
    import torch

    size = int(source.preprocessing["input_size"])
    generator = torch.Generator().manual_seed(batch)
    return torch.randn(batch, source.in_chans, size, size, generator=generator)


def _check(fmt: str, logits: torch.Tensor, reference: torch.Tensor) -> float:
    """The relative difference of an export's logits from ours; InputError above TOLERANCE."""
    scale = float(reference.abs().max().clamp_min(1e-12))
    difference = float((logits.float() - reference).abs().max()) / scale
    if tuple(logits.shape) != tuple(reference.shape) or not difference <= TOLERANCE[fmt]:
        raise InputError(
            f"the {fmt} export does not reproduce the network's logits (relative difference "
            f"{difference:.2e}, shape {tuple(logits.shape)}, tolerance {TOLERANCE[fmt]:.0e}); "
            "nothing was kept"
        )
    return difference


def _write_timm(source: ExportSource, folder: Path, reference: torch.Tensor) -> float:
    import timm
    import torch
    from safetensors.torch import save_file

    timm_name = check_timm_architecture(source.name, source.model_cfg)
    weights = to_timm_state_dict(source.name, source.model.state_dict())
    save_file(weights, str(folder / WEIGHTS_FILE), metadata={"format": "pt", **source.metadata})
    config = json.dumps(timm_config(source, timm_name), indent=2) + "\n"
    (folder / CONFIG_FILE).write_text(config)
    # As a user of the folder would: timm reads config.json and the weights beside it.
    loaded = timm.create_model(f"local-dir:{folder}", pretrained=True).eval()
    with torch.no_grad():
        return _check("timm", loaded(_inputs(source, CHECK_BATCH)), reference)


def _write_onnx(source: ExportSource, folder: Path, reference: torch.Tensor) -> float:
    import onnx
    import onnxruntime
    import torch

    path = folder / ONNX_FILE
    # The TorchScript-based exporter (dynamo=False): it needs neither onnxscript nor a network
    # and takes seconds where torch.export's takes about a minute for these networks.
    torch.onnx.export(
        source.model,
        (_inputs(source, EXPORT_BATCH),),
        str(path),
        input_names=["images"],
        output_names=["logits"],
        dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=ONNX_OPSET,
        dynamo=False,
    )
    graph = onnx.load(str(path))
    onnx.helper.set_model_props(graph, source.metadata)
    onnx.checker.check_model(graph)
    onnx.save(graph, str(path))
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: the check's result is reported by itself
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    (logits,) = session.run(["logits"], {"images": _inputs(source, CHECK_BATCH).numpy()})
    return _check("onnx", torch.from_numpy(logits), reference)


def _write_torchscript(source: ExportSource, folder: Path, reference: torch.Tensor) -> float:
    import torch

    path = folder / TORCHSCRIPT_FILE
    # Traced: the networks use Python the scripting compiler rejects (annotations, helpers).
    traced = torch.jit.trace(source.model, _inputs(source, EXPORT_BATCH), check_trace=False)
    extra = {METADATA_FILE: json.dumps(source.metadata, indent=2)}
    torch.jit.save(traced, str(path), _extra_files=extra)
    loaded = torch.jit.load(str(path), map_location="cpu")
    with torch.no_grad():
        return _check("torchscript", loaded(_inputs(source, CHECK_BATCH)), reference)


WRITERS: dict[str, Callable[[ExportSource, Path, Any], float]] = {
    "timm": _write_timm,
    "onnx": _write_onnx,
    "torchscript": _write_torchscript,
}


def write_export(source: ExportSource, fmt: str, folder: Path) -> float:
    """Write `source` as `fmt` into the existing, empty `folder` and check the files' logits
    against the network's on a batch of another size than the one exported; returns the
    relative difference. InputError when the export fails or its logits differ."""
    import torch

    check_format(fmt)
    source.model.eval()
    with torch.no_grad():
        reference = source.model(_inputs(source, CHECK_BATCH)).float()
    with warnings.catch_warnings():
        # The deprecation notes of torch.jit and the TorchScript-based ONNX exporter, and the
        # tracer's notes: the check below is what tells whether the export is right.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        try:
            return WRITERS[fmt](source, folder, reference)
        except InputError:
            raise
        except Exception as error:  # exporters and runtimes fail in many exception types
            raise InputError(f"the {fmt} export failed: {first_line(error)}") from None
