"""Convergence figures in the style of the paper's Figs 21-26: validation error against training.

Residual networks are drawn solid and pure Inception networks dashed, as the paper contrasts them.
matplotlib is imported inside `draw_convergence`, so importing this module costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FIGURE_SIZE_INCHES = (8.0, 5.0)
FIGURE_DPI = 150
FIGURE_FORMATS = ("png", "svg")
LINE_STYLE_KEY = "solid: residual   dashed: pure Inception"


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

    figure = Figure(figsize=FIGURE_SIZE_INCHES, dpi=FIGURE_DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for line in series:
        draw_series(axes, line)
    if threshold is not None:
        draw_threshold(axes, threshold)
    label_axes(axes, title=title, x_label=x_label, y_label=y_label, integer_x=integer_x)
    legend = axes.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    return DrawnFigure(
        paths=save_figure(figure, stem, title),
        title=title,
        legend=[text.get_text() for text in legend.get_texts()],
        series=list(series),
    )


def draw_series(axes: Axes, line: Series) -> None:
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


def draw_threshold(axes: Axes, threshold: float) -> None:
    """A dotted line at the threshold, its value at the right edge."""
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


def label_axes(axes: Axes, *, title: str, x_label: str, y_label: str, integer_x: bool) -> None:
    from matplotlib.ticker import MaxNLocator

    axes.set_title(title)
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    axes.grid(True, alpha=0.3)
    if integer_x:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.text(0.01, 0.01, LINE_STYLE_KEY, transform=axes.transAxes, fontsize=8, color="grey")


def save_figure(figure: Figure, stem: Path, title: str) -> list[Path]:
    """`<stem>.<format>` for each of FIGURE_FORMATS, titled in their metadata."""
    paths = []
    for extension in FIGURE_FORMATS:
        path = stem.with_suffix(f".{extension}")
        figure.savefig(path, format=extension, dpi=FIGURE_DPI, metadata={"Title": title})
        paths.append(path)
    return paths
