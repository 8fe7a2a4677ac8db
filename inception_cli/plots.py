"""Convergence figures in the style of the paper's Figs 21-26: validation error against training.

Residual networks are drawn solid and pure Inception networks dashed, as the paper contrasts them.
matplotlib is imported inside `draw_convergence`, so importing this module costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FIGURE_SIZE_INCHES = (8.0, 5.0)
FIGURE_DPI = 150
FIGURE_FORMATS = ("png", "svg")


@dataclass(frozen=True)
class Series:
    """One line of a convergence figure, with an optional band (min-max over seeds)."""

    label: str
    model: str
    colour: str
    residual: bool | None
    x: list[float]
    y: list[float]
    band_low: list[float] | None = None
    band_high: list[float] | None = None

    @property
    def linestyle(self) -> str:
        if self.residual is None:
            return ":"
        return "-" if self.residual else "--"


@dataclass(frozen=True)
class DrawnFigure:
    paths: list[Path]
    title: str
    legend: list[str]
    series: list[Series]


def written_by_matplotlib(path: Path) -> bool:
    """True when `path` is a figure matplotlib wrote (it stamps its name into PNG and SVG)."""
    with path.open("rb") as file:
        return b"matplotlib" in file.read(8192).lower()


def draw_convergence(
    series: list[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    threshold: float | None,
    stem: Path,
    integer_x: bool = False,
) -> DrawnFigure:
    """Draw the lines and write `<stem>.png` (150 dpi, 8x5 inches) and `<stem>.svg`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=FIGURE_SIZE_INCHES, dpi=FIGURE_DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for line in series:
        axes.plot(
            line.x,
            line.y,
            label=line.label,
            color=line.colour,
            linestyle=line.linestyle,
            marker="o",
            markersize=3,
            linewidth=1.6,
        )
        if line.band_low is not None and line.band_high is not None:
            axes.fill_between(line.x, line.band_low, line.band_high, color=line.colour, alpha=0.15)
    if threshold is not None:
        axes.axhline(threshold, color="grey", linewidth=0.8, linestyle=":")
        axes.annotate(
            f"{threshold:.1f}%",
            xy=(1.0, threshold),
            xycoords=("axes fraction", "data"),
            xytext=(-4, 3),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            color="grey",
        )
    axes.set_title(title)
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    axes.grid(True, alpha=0.3)
    if integer_x:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.text(
        0.01,
        0.01,
        "solid: residual   dashed: pure Inception",
        transform=axes.transAxes,
        fontsize=8,
        color="grey",
    )
    legend = axes.legend(loc="upper right", fontsize=8)
    figure.tight_layout()

    paths = []
    for extension in FIGURE_FORMATS:
        path = stem.with_suffix(f".{extension}")
        figure.savefig(path, format=extension, dpi=FIGURE_DPI, metadata={"Title": title})
        paths.append(path)
    return DrawnFigure(
        paths=paths,
        title=title,
        legend=[text.get_text() for text in legend.get_texts()],
        series=list(series),
    )
