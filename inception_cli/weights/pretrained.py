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
from inception_cli.errors import InputError, first_line
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
    # The weights file first: without a network this fails in seconds, before any building.
    weights_file = _weights_file(_import_timm(), _resolve_tag(catalog.entry(name), weights))
    try:
        model = create_model(name, **kwargs)
    except (TypeError, ValueError) as err:
        raise InputError(str(err)) from None
    load_pretrained(model, name, weights, weights_file=weights_file)
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


# Published weights are a single file on the Hugging Face hub; timm reads safetensors first.
HUB_FILES = ("model.safetensors", "pytorch_model.bin")
# Without a network the hub client retries for half a minute; one short try says it at once.
HUB_TIMEOUT_S = 3.0


def _cached_file(repo: str) -> str | None:
    """The weights of `repo` in the local Hugging Face cache, if they were downloaded before."""
    from huggingface_hub import try_to_load_from_cache

    for filename in HUB_FILES:
        cached = try_to_load_from_cache(repo, filename)
        if isinstance(cached, str):
            return cached
    return None


def _check_hub_reachable(tag: str) -> None:
    """One connection to the hub, with a short timeout and no retries."""
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        raise InputError(
            f"the published weights {tag!r} are not in the local Hugging Face cache and "
            "HF_HUB_OFFLINE is set; download them once with a network, or unset HF_HUB_OFFLINE"
        )
    endpoint = urlparse(constants.ENDPOINT)
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        socket.create_connection((endpoint.hostname, port), timeout=HUB_TIMEOUT_S).close()
    except OSError as error:
        raise InputError(
            f"the published weights {tag!r} are not in the local Hugging Face cache and "
            f"{endpoint.hostname} cannot be reached ({error.strerror or error}); "
            "download them once with a network"
        ) from None


def _download(repo: str) -> str:
    from huggingface_hub import hf_hub_download

    return hf_hub_download(repo, HUB_FILES[0], etag_timeout=HUB_TIMEOUT_S)


def _weights_file(timm: Any, tag: str) -> str:
    """The local file of published weights `tag`: from the cache, else downloaded once."""
    repo = timm.models.get_pretrained_cfg(tag).hf_hub_id or f"timm/{tag}"
    cached = _cached_file(repo)
    if cached is not None:
        return cached
    _check_hub_reachable(tag)
    try:
        return _download(repo)
    except Exception as err:  # hub, network and cache failures come in many exception types
        raise InputError(
            f"could not download the published weights {tag!r} ({repo}): {first_line(err)}"
        ) from None


def _fetch(
    tag: str, name: str, with_aux: bool, path: str | None = None
) -> tuple[dict[str, torch.Tensor], int]:
    """The state dict of published weights `tag`, on our keys, and its number of classes.

    The file comes from the Hugging Face cache, else from the hub (once); timm builds its
    model from that file, so that it never goes to the network itself.
    """
    timm = _import_timm()
    path = path or _weights_file(timm, tag)
    try:
        source = timm.create_model(
            tag,
            pretrained=True,
            pretrained_cfg_overlay={"file": path},
            **({"aux_logits": True} if with_aux else {}),
        )
    except Exception as err:  # a damaged file comes in many exception types
        raise InputError(
            f"could not read the published weights {tag!r} from {path}: {first_line(err)}"
        ) from None
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


def load_pretrained(
    model: nn.Module, name: str, weights: str, *, weights_file: str | None = None
) -> None:
    """Load published weights `weights` ("timm:<tag>") into `model`, built as model `name`.

    The weights are converted and loaded strictly. When our classifier has another number of
    classes, everything but the classifier is loaded, with a warning. Raises InputError for a
    malformed spec, an unknown tag, a model without published weights, a model whose shapes
    differ from the published ones, or a missing timm. `weights_file`: the weights' file when
    it was already located (cache or download), so that it is not looked up twice.
    """
    tag = _resolve_tag(catalog.entry(name), weights)
    has_aux = getattr(model, "AuxLogits", None) is not None
    load_aux = has_aux and tag in TAGS_WITH_AUX
    state_dict, published_classes = _fetch(tag, name, load_aux, weights_file)

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
