"""Published ImageNet weights, as ported by timm, loaded into our models.

v3, v4 and irv2 keep timm's module names, so a timm state dict maps onto ours key for key. Which
model has a timm counterpart, and which weight tags it takes, is in the catalog. timm is imported
only here, and only when weights are asked for: it is an optional dependency.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import nn

from inception_cli import catalog
from inception_cli.errors import InputError
from inception_cli.models import create_model

__all__ = [
    "convert_timm_state_dict",
    "create_pretrained",
    "load_pretrained",
    "pretrained_preprocessing",
]

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
    if catalog.entry(name).timm_name is None:
        raise ValueError(
            f"model {name!r} has no timm counterpart, so no timm state dict maps onto it"
        )
    return {
        key: value
        for key, value in state_dict.items()
        if aux_logits or not key.startswith(AUX_PREFIX)
    }


def create_pretrained(name: str, weights: str, **kwargs: Any) -> nn.Module:
    """Model `name`, built as `create_model(name, **kwargs)`, with the published weights
    `weights` ("timm:<tag>"). InputError for anything `load_pretrained` refuses, and for
    arguments the model does not take."""
    try:
        model = create_model(name, **kwargs)
    except (TypeError, ValueError) as err:
        raise InputError(str(err)) from None
    load_pretrained(model, name, weights)
    return model


def _import_timm() -> Any:
    try:
        import timm
    except ImportError:
        raise InputError(TIMM_MISSING) from None
    return timm


def _resolve_tag(entry: catalog.CatalogEntry, weights: str) -> str:
    """'timm:inception_v4.tf_in1k' (or the short 'timm:tf_in1k') → 'inception_v4.tf_in1k'."""
    source, _, tag = weights.partition(":")
    tags = entry.pretrained_tags
    if source != "timm" or not tag:
        example = tags[0] if tags else "inception_v4.tf_in1k"
        raise InputError(
            f"weights must look like 'timm:<tag>', got {weights!r}; for example timm:{example}"
        )
    if not tags:
        with_weights = [name for name, e in sorted(catalog.CATALOG.items()) if e.pretrained_tags]
        raise InputError(
            f"model {entry.name!r} has no published weights; models with weights: "
            f"{', '.join(with_weights or ['none'])}"
        )
    if "." not in tag and entry.timm_name is not None:
        tag = f"{entry.timm_name}.{tag}"
    if tag not in tags:
        raise InputError(
            f"unknown weights {weights!r} for model {entry.name!r}; "
            f"choose one of: {', '.join('timm:' + t for t in tags)}"
        )
    return tag


def _fetch(tag: str, name: str, with_aux: bool) -> tuple[dict[str, torch.Tensor], int]:
    """The state dict of published weights `tag`, on our keys, and its number of classes.

    timm builds its model with `pretrained=True`, downloading the checkpoint from the Hugging
    Face hub into its cache the first time.
    """
    timm = _import_timm()
    try:
        source = timm.create_model(
            tag, pretrained=True, **({"aux_logits": True} if with_aux else {})
        )
    except Exception as err:  # hub, network and cache failures come in many exception types
        raise InputError(
            f"could not fetch the published weights {tag!r} through timm: {err}"
        ) from err
    return convert_timm_state_dict(
        name, source.state_dict(), aux_logits=with_aux
    ), source.num_classes


def _classifier_keys(model: nn.Module) -> set[str]:
    """State dict keys of the fully connected layers: in these networks, only the classifiers."""
    return {
        f"{module_name}.{param_name}"
        for module_name, module in model.named_modules()
        if isinstance(module, nn.Linear)
        for param_name, _ in module.named_parameters(recurse=False)
    }


def _drop_other_classifier(
    model: nn.Module, state_dict: dict[str, torch.Tensor], tag: str, name: str
) -> list[str]:
    """Remove from `state_dict` the classifier keys whose shapes differ from `model`'s (another
    number of classes) and return them; InputError when any other layer differs."""
    own = model.state_dict()
    mismatched = [k for k, v in state_dict.items() if k in own and own[k].shape != v.shape]
    classifier = _classifier_keys(model)
    body = [k for k in mismatched if k not in classifier]
    if body:
        key = body[0]
        raise InputError(
            f"published weights {tag!r} do not fit this {name!r} model ({key}: "
            f"{tuple(state_dict[key].shape)} vs {tuple(own[key].shape)}); "
            "they exist for width 1.0 and 3 input channels only"
        )
    for key in mismatched:
        del state_dict[key]
    return mismatched


def load_pretrained(model: nn.Module, name: str, weights: str) -> None:
    """Load published weights `weights` ("timm:<tag>") into `model`, built as model `name`.

    The weights are converted and loaded strictly. When our classifier has another number of
    classes, everything but the classifier is loaded, with a warning. Raises InputError for a
    malformed spec, an unknown tag, a model without published weights, a model whose shapes
    differ from the published ones, or a missing timm.
    """
    tag = _resolve_tag(catalog.entry(name), weights)
    has_aux = getattr(model, "AuxLogits", None) is not None
    load_aux = has_aux and tag in TAGS_WITH_AUX
    state_dict, published_classes = _fetch(tag, name, load_aux)

    skipped = set(_drop_other_classifier(model, state_dict, tag, name))
    if skipped:
        warnings.warn(
            f"{tag}: the classifier has {getattr(model, 'num_classes', '?')} classes, the weights "
            f"{published_classes}; loaded everything but the classifier, which keeps its "
            "initialisation",
            UserWarning,
            stacklevel=2,
        )
    if has_aux and not load_aux:
        skipped |= {k for k in model.state_dict() if k.startswith(AUX_PREFIX)}
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
        spec = tag if tag.startswith("timm:") else f"timm:{tag}"
        tag = _resolve_tag(catalog.entry(model), spec)
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
