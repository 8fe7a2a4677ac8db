"""Published ImageNet weights, as ported by timm, loaded into our models.

v3, v4 and irv2 keep timm's module names, so a timm state dict maps onto ours key for key.
timm is imported only here, and only when weights are asked for: it is an optional dependency.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import nn

from inception_cli.errors import InputError
from inception_cli.models.registry import ModelInfo, list_models, model_info

__all__ = ["convert_timm_state_dict", "load_pretrained", "pretrained_preprocessing"]

TIMM_MISSING = "timm is not installed; install it with: pip install 'inception-paper-lab[timm]'"

AUX_PREFIX = "AuxLogits."
# Of timm's Inception-v3 checkpoints, only the torchvision one carries the auxiliary classifier.
TAGS_WITH_AUX = frozenset({"inception_v3.tv_in1k"})


def convert_timm_state_dict(
    name: str, state_dict: dict[str, torch.Tensor], aux_logits: bool = False
) -> dict[str, torch.Tensor]:
    """Map a state dict of timm's counterpart of model `name` onto our keys.

    Our keys equal timm's, so this copies the dict; the auxiliary classifier (`AuxLogits.*`,
    Inception-v3) is kept only when `aux_logits` says our model has one.
    Raises ValueError for a model with no timm counterpart.
    """
    info = model_info(name)
    if info.timm_name is None:
        raise ValueError(
            f"model {name!r} has no timm counterpart, so no timm state dict maps onto it"
        )
    return {
        key: value
        for key, value in state_dict.items()
        if aux_logits or not key.startswith(AUX_PREFIX)
    }


def _import_timm() -> Any:
    try:
        import timm
    except ImportError:
        raise InputError(TIMM_MISSING) from None
    return timm


def _resolve_tag(info: ModelInfo, weights: str) -> str:
    """'timm:inception_v4.tf_in1k' (or the short 'timm:tf_in1k') → 'inception_v4.tf_in1k'."""
    source, _, tag = weights.partition(":")
    if source != "timm" or not tag:
        example = info.pretrained_tags[0] if info.pretrained_tags else "inception_v4.tf_in1k"
        raise InputError(
            f"weights must look like 'timm:<tag>', got {weights!r}; for example timm:{example}"
        )
    if not info.pretrained_tags:
        raise InputError(
            f"model {info.name!r} has no published weights; models with weights: "
            f"{', '.join(_models_with_weights())}"
        )
    if "." not in tag and info.timm_name is not None:
        tag = f"{info.timm_name}.{tag}"
    if tag not in info.pretrained_tags:
        raise InputError(
            f"unknown weights {weights!r} for model {info.name!r}; "
            f"choose one of: {', '.join('timm:' + t for t in info.pretrained_tags)}"
        )
    return tag


def _models_with_weights() -> list[str]:
    return [name for name in list_models() if model_info(name).pretrained_tags] or ["none"]


def _classifier_keys(model: nn.Module) -> set[str]:
    """State dict keys of the fully connected layers: in these networks, only the classifiers."""
    return {
        f"{module_name}.{param_name}"
        for module_name, module in model.named_modules()
        if isinstance(module, nn.Linear)
        for param_name, _ in module.named_parameters(recurse=False)
    }


def load_pretrained(model: nn.Module, name: str, weights: str) -> None:
    """Load published weights `weights` ("timm:<tag>") into `model`, built as model `name`.

    timm builds its model with `pretrained=True` (downloading the checkpoint from the Hugging Face
    hub into its cache the first time); its state dict is converted and loaded strictly. When our
    classifier has another number of classes, everything but the classifier is loaded, with a
    warning. Raises InputError for a malformed spec, an unknown tag, a model without published
    weights, a model whose shapes differ from the published ones, or a missing timm.
    """
    info = model_info(name)
    tag = _resolve_tag(info, weights)
    timm = _import_timm()

    has_aux = getattr(model, "AuxLogits", None) is not None
    load_aux = has_aux and tag in TAGS_WITH_AUX
    timm_kwargs = {"aux_logits": True} if load_aux else {}
    try:
        source = timm.create_model(tag, pretrained=True, **timm_kwargs)
    except Exception as err:  # hub, network and cache failures come in many exception types
        raise InputError(
            f"could not fetch the published weights {tag!r} through timm: {err}"
        ) from err
    state_dict = convert_timm_state_dict(name, source.state_dict(), aux_logits=load_aux)

    own = model.state_dict()
    classifier = _classifier_keys(model)
    mismatched = [k for k, v in state_dict.items() if k in own and own[k].shape != v.shape]
    mismatched_body = [k for k in mismatched if k not in classifier]
    if mismatched_body:
        key = mismatched_body[0]
        raise InputError(
            f"published weights {tag!r} do not fit this {name!r} model ({key}: "
            f"{tuple(state_dict[key].shape)} vs {tuple(own[key].shape)}); "
            "they exist for width 1.0 and 3 input channels only"
        )
    for key in mismatched:
        del state_dict[key]
    if mismatched:
        warnings.warn(
            f"{tag}: the classifier has {getattr(model, 'num_classes', '?')} classes, the weights "
            f"{source.num_classes}; loaded everything but the classifier, which keeps its "
            "initialisation",
            UserWarning,
            stacklevel=2,
        )

    skipped = set(mismatched)
    if has_aux and not load_aux:
        skipped |= {k for k in own if k.startswith(AUX_PREFIX)}
        warnings.warn(
            f"{tag} has no auxiliary classifier; AuxLogits keeps its initialisation",
            UserWarning,
            stacklevel=2,
        )
    # Strict, except for the layers deliberately left out above.
    result = model.load_state_dict(state_dict, strict=False)
    missing = set(result.missing_keys) - skipped
    if missing or result.unexpected_keys:
        raise InputError(
            f"published weights {tag!r} do not match model {name!r}: "
            f"missing {sorted(missing)[:5]}, unexpected {sorted(result.unexpected_keys)[:5]}"
        )


def pretrained_preprocessing(tag: str, model: str | None = None) -> dict[str, Any]:
    """Evaluation preprocessing of published weights `tag`, from timm's pretrained config (no
    download): input_size (pixels, square), crop_fraction, interpolation, mean, std.

    `tag` is a full timm tag ("inception_v4.tf_in1k"), optionally prefixed with "timm:"; a short
    tag ("tf_in1k") needs the `model` name to resolve it.
    """
    if model is not None:
        tag = _resolve_tag(model_info(model), tag if tag.startswith("timm:") else f"timm:{tag}")
    tag = tag.removeprefix("timm:")
    timm = _import_timm()
    try:
        cfg = timm.models.get_pretrained_cfg(tag, allow_unregistered=False)
    except RuntimeError:
        cfg = None
    if cfg is None or "." not in tag:
        raise InputError(
            f"unknown published weights {tag!r}; use a full tag such as inception_v4.tf_in1k"
        )
    return {
        "input_size": int(cfg.input_size[-1]),
        "crop_fraction": float(cfg.crop_pct),
        "interpolation": str(cfg.interpolation),
        "mean": tuple(float(m) for m in cfg.mean),
        "std": tuple(float(s) for s in cfg.std),
    }
