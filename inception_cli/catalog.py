"""What the tool knows about each network, without importing torch.

One entry per model: the CLI, `rundir/` and `compare` read these facts here, and the family file
in `models/` registers the network under the same name (a test checks both sides agree, and that
every entry has its `conf/model/<name>.yaml`). Adding a model is its family file, an entry here and its YAML.

Sources: the paper (Szegedy, Ioffe, Vanhoucke, Alemi 2016, arXiv 1602.07261) for the names and the
residual/pure pairs of Figs 21-26; timm for the architecture names and the published weight tags.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CatalogEntry:
    name: str  # the short name of `model=<name>` and of conf/model/<name>.yaml
    display_name: str  # as the paper writes it, for figures and tables
    description: str
    residual: bool
    # The pure network of similar cost that the paper plots beside a residual one (Figs 21-24).
    paper_pair: str | None = None
    colour: str = "#7f7f7f"  # the model's colour in every figure
    default_input_size: int = 299
    min_input_size: int = 75  # the valid-padding stems need 75x75
    timm_name: str | None = None  # timm architecture with the same layout and keys, if any
    pretrained_tags: tuple[str, ...] = ()  # timm weight tags that load into this model


# In the order the paper's figures and tables list them: each pure network, then its residual pair.
CATALOG: dict[str, CatalogEntry] = {
    entry.name: entry
    for entry in (
        CatalogEntry(
            name="v3",
            display_name="Inception-v3",
            description="Inception-v3, the baseline of Figs 25/26 (optional auxiliary head)",
            residual=False,
            colour="#1f77b4",
            timm_name="inception_v3",
            pretrained_tags=(
                "inception_v3.tf_in1k",
                "inception_v3.tv_in1k",
                "inception_v3.tf_adv_in1k",
                "inception_v3.gluon_in1k",
            ),
        ),
        CatalogEntry(
            name="irv1",
            display_name="Inception-ResNet-v1",
            description="Inception-ResNet-v1 as printed in the paper (Figs 14, 10-13, 15)",
            residual=True,
            paper_pair="v3",
            colour="#17becf",
        ),
        CatalogEntry(
            name="v4",
            display_name="Inception-v4",
            description="Inception-v4, pure Inception (Figs 3-9)",
            residual=False,
            colour="#d62728",
            timm_name="inception_v4",
            pretrained_tags=("inception_v4.tf_in1k",),
        ),
        CatalogEntry(
            name="irv2",
            display_name="Inception-ResNet-v2",
            description="Inception-ResNet-v2 as released in TF-slim (published weights)",
            residual=True,
            paper_pair="v4",
            colour="#ff7f0e",
            timm_name="inception_resnet_v2",
            pretrained_tags=("inception_resnet_v2.tf_in1k", "inception_resnet_v2.tf_ens_adv_in1k"),
        ),
        CatalogEntry(
            name="irv2_paper",
            display_name="Inception-ResNet-v2 (paper)",
            description="Inception-ResNet-v2 as printed in the paper (Figs 3, 16-19, 15)",
            residual=True,
            paper_pair="v4",
            colour="#9467bd",
        ),
    )
}
MODEL_NAMES: tuple[str, ...] = tuple(CATALOG)
RESIDUAL_MODELS = frozenset(name for name, entry in CATALOG.items() if entry.residual)
PURE_MODELS = frozenset(name for name, entry in CATALOG.items() if not entry.residual)


def entry(name: str) -> CatalogEntry:
    """The catalog entry of `name`; ValueError naming the known models otherwise (by name, as
    every other list of choices the CLI prints)."""
    try:
        return CATALOG[name]
    except KeyError:
        known = ", ".join(sorted(CATALOG))
        raise ValueError(f"unknown model {name!r}; known models: {known}") from None


def display_name(model: str) -> str:
    """The paper's name of a model; a name the catalog does not know is shown as it is."""
    known = CATALOG.get(model)
    return known.display_name if known else model


def order(model: str) -> int:
    """Position in figures and tables: the catalog's order, unknown models last."""
    return MODEL_NAMES.index(model) if model in CATALOG else len(MODEL_NAMES)


def residual_by_name(model: str) -> bool | None:
    """True for a residual network, False for a pure one, None for a model the tool does not
    build (a run directory from elsewhere)."""
    known = CATALOG.get(model)
    return known.residual if known else None


def model_from_run_id(run_id: str) -> str | None:
    """Run ids end in the model name (conf/hydra/default.yaml): 2026-11-27_21-03-11_irv2,
    0_irv2_paper. The longest name is tried first, so irv2_paper is not read as irv2."""
    for model in sorted(CATALOG, key=len, reverse=True):
        if run_id == model or run_id.endswith(f"_{model}"):
            return model
    return None
