"""What the paper reports, to set beside the measured numbers: errors, figures, residual scaling.

Source: Szegedy, Ioffe, Vanhoucke, Alemi, "Inception-v4, Inception-ResNet and the Impact of
Residual Connections on Learning", 2016, arXiv 1602.07261, Tables 2 and 5, Figs 20-26 and
section 3.3. Errors are in percent on the ILSVRC-2012 validation set: the single-model numbers
on the images left after the blacklist (the paper says this makes them optimistic by about 0.3%
top-1 and 0.15% top-5), the ensembles on all 50,000 images. Plain data, no torch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

SOURCE = "Szegedy et al. 2016, arXiv 1602.07261, Tables 2 and 5"
SINGLE_MODEL_IMAGES = "ILSVRC-2012 validation, non-blacklisted images"
ENSEMBLE_IMAGES = "ILSVRC-2012 validation, all 50,000 images"


@dataclass(frozen=True)
class PaperError:
    top1: float
    top5: float


# Table 2: single model, by the paper's name of the network and the number of crops.
SINGLE_CROP: dict[str, PaperError] = {
    "BN-Inception": PaperError(25.2, 7.8),
    "Inception-v3": PaperError(21.2, 5.6),
    "Inception-ResNet-v1": PaperError(21.3, 5.5),
    "Inception-v4": PaperError(20.0, 5.0),
    "Inception-ResNet-v2": PaperError(19.9, 4.9),
}
TWELVE_CROPS: dict[str, PaperError] = {
    "Inception-v3": PaperError(19.8, 4.6),
    "Inception-ResNet-v1": PaperError(19.8, 4.6),
    "Inception-v4": PaperError(18.7, 4.2),
    "Inception-ResNet-v2": PaperError(18.7, 4.1),
}
CROPS_144: dict[str, PaperError] = {
    "Inception-v3": PaperError(18.9, 4.3),
    "Inception-ResNet-v1": PaperError(18.8, 4.3),
    "Inception-v4": PaperError(17.7, 3.8),
    "Inception-ResNet-v2": PaperError(17.8, 3.7),
}
BY_CROPS = {1: SINGLE_CROP, 12: TWELVE_CROPS, 144: CROPS_144}
# The paper's "12 crops" protocol is defined nowhere; `inception eval --crops 10` (GoogLeNet's
# 10 crops) is the closest, so a 10-crop result is set beside the paper's 12-crop number.
PAPER_CROPS_FOR = {1: 1, 10: 12, 144: 144}

# The paper's network for each model the tool builds: irv2 (TF-slim's layout, the published
# weights) and irv2_paper (the paper's printed figures) are both its Inception-ResNet-v2.
PAPER_NETWORK = {
    "v3": "Inception-v3",
    "irv1": "Inception-ResNet-v1",
    "v4": "Inception-v4",
    "irv2": "Inception-ResNet-v2",
    "irv2_paper": "Inception-ResNet-v2",
}


@dataclass(frozen=True)
class PaperEnsemble:
    name: str
    members: dict[str, int]  # the paper's network -> how many of it
    crops: int
    error: PaperError


# Table 5: ensembles, 144 crops, all 50,000 validation images.
ENSEMBLES = (
    PaperEnsemble("Inception-v3 × 4", {"Inception-v3": 4}, 144, PaperError(17.3, 3.6)),
    PaperEnsemble(
        "Inception-v4 + 3 × Inception-ResNet-v2",
        {"Inception-v4": 1, "Inception-ResNet-v2": 3},
        144,
        PaperError(16.5, 3.1),
    ),
)


@dataclass(frozen=True)
class PaperFigure:
    """One of the convergence figures: a pair (pure network and its residual counterpart of
    similar cost) or, with `pure` None, all the networks together."""

    number: int
    metric: str  # "top1" or "top5"
    pure: str | None
    residual: str | None

    @property
    def stem(self) -> str:
        """fig21_top1_v3_vs_irv1, fig25_top5_all: the number first, then what it shows."""
        shows = f"{self.pure}_vs_{self.residual}" if self.pure else "all"
        return f"fig{self.number}_{self.metric}_{shows}"


# Figs 21-24 are the pairs, top-1 then top-5; Fig 25 is top-5 of all four, Fig 26 top-1.
FIGURES = (
    PaperFigure(21, "top1", "v3", "irv1"),
    PaperFigure(22, "top5", "v3", "irv1"),
    PaperFigure(23, "top1", "v4", "irv2"),
    PaperFigure(24, "top5", "v4", "irv2"),
    PaperFigure(25, "top5", None, None),
    PaperFigure(26, "top1", None, None),
)

# Section 3.3 and Fig 20: residual variants with more than about 1,000 filters "died" early in
# training (the last layer before the average pooling produced only zeros) unless the residuals
# were scaled down by a factor between 0.1 and 0.3 before being added.
DEATH_FILTERS = 1000
RESIDUAL_SCALES = (0.1, 0.3)
DEAD_AT = 0.99  # share of zeros before the pooling from which a network counts as dead here
RESIDUAL_SCALING_STEM = "residual_scaling_dead_fraction"


def paper_network(model: str) -> str | None:
    return PAPER_NETWORK.get(model)


def single_model_error(model: str, crops: int) -> tuple[int, PaperError] | None:
    """The paper's error of `model` for an evaluation with `crops` crops, and the number of crops
    the paper used for it; None where the paper has no such number."""
    network = paper_network(model)
    paper_crops = PAPER_CROPS_FOR.get(crops)
    if network is None or paper_crops is None:
        return None
    error = BY_CROPS[paper_crops].get(network)
    return (paper_crops, error) if error is not None else None


def ensemble_of(models: list[str]) -> PaperEnsemble | None:
    """The paper's ensemble made of the same networks, if there is one."""
    networks = [paper_network(model) for model in models]
    if None in networks:
        return None
    counts = Counter(str(network) for network in networks)
    return next((e for e in ENSEMBLES if dict(counts) == e.members), None)
