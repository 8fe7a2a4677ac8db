"""The catalog and the models registry name the same networks, each with its conf/model YAML, and
what a built network says of itself agrees with its catalog entry."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

import inception_cli
from inception_cli import catalog
from inception_cli.config.compose import config_dir
from inception_cli.models import create_model, list_models


def test_every_registered_model_has_a_catalog_entry() -> None:
    assert set(list_models()) - set(catalog.CATALOG) == set()


def test_every_catalog_entry_has_a_registered_model() -> None:
    assert set(catalog.CATALOG) - set(list_models()) == set()


@pytest.mark.parametrize("name", sorted(set(catalog.CATALOG) | set(list_models())))
def test_every_model_has_its_config(name: str) -> None:
    path = config_dir() / "model" / f"{name}.yaml"
    assert path.is_file(), f"model {name!r} has no {path}"
    assert OmegaConf.load(path).name == name


@pytest.mark.parametrize("name", catalog.MODEL_NAMES)
def test_built_model_agrees_with_its_entry(name: str) -> None:
    entry = catalog.entry(name)
    with torch.device("meta"):
        model = create_model(name, num_classes=10)
    assert model.residual is entry.residual
    assert model.default_input_size == entry.default_input_size
    assert model.min_input_size == entry.min_input_size


@pytest.mark.parametrize("name", catalog.MODEL_NAMES)
def test_published_weights_belong_to_the_timm_counterpart(name: str) -> None:
    entry = catalog.entry(name)
    assert entry.timm_name is not None or not entry.pretrained_tags
    for tag in entry.pretrained_tags:
        assert tag.partition(".")[0] == entry.timm_name


def test_paper_pairs_are_pure_models() -> None:
    for name, entry in catalog.CATALOG.items():
        if entry.paper_pair is not None:
            assert entry.residual, name
            assert catalog.entry(entry.paper_pair).residual is False, name


def test_catalog_imports_no_torch(loaded_by_import) -> None:
    heavy = ("torch", "numpy", "omegaconf", "inception_cli.models")
    assert loaded_by_import("inception_cli.catalog", heavy) == []


def test_models_import_nothing_else_of_the_tool(loaded_by_import) -> None:
    package = Path(inception_cli.__file__).parent
    others = tuple(
        "inception_cli." + ".".join(path.relative_to(package).with_suffix("").parts)
        for path in package.rglob("*.py")
        if path.parent.name != "models" and path.name != "__init__.py"
    )
    assert loaded_by_import("inception_cli.models", others) == []
