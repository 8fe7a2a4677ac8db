"""Drawing the figures: validation error against training in the style of the paper's Figs
21-26, and panels side by side (the dead fraction beside the error, for residual scaling).

Residual networks are drawn solid and pure Inception networks dashed, as the paper contrasts them.
matplotlib is imported inside `draw_panels`, so importing this module costs nothing.
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
BAND_KEY = "band: min-max of 2 runs, ±1 s.d. of 3 or more"
DEFAULT_MARKER = "o"
# For the second and later runs of one model in the overview figures.
SPARE_MARKERS = ("s", "^", "D", "v", "P", "X", "*", "<", ">")


@dataclass(frozen=True)
class Series:
    """One line of a figure, with an optional band: the spread of the seeds (series.py)."""

    label: str
    model: str
    colour: str
    residual: bool | None
    x: list[float]
    y: list[float]
    band_low: list[float] | None = None
    band_high: list[float] | None = None
    # Runs of one model share its colour and line style; their markers tell them apart.
    marker: str = DEFAULT_MARKER

    @property
    def markersize(self) -> float:
        return 3 if self.marker == DEFAULT_MARKER else 6

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


def remove_stale_figure(stem: Path) -> None:
    """An earlier comparison's figure that this one does not draw (its models are no longer
    among the runs): removed, so the folder shows what report.html shows."""
    for extension in FIGURE_FORMATS:
        path = stem.with_suffix(f".{extension}")
        if path.is_file() and written_by_matplotlib(path):
            path.unlink()


@dataclass(frozen=True)
class Panel:
    """One set of axes of a figure."""

    series: list[Series]
    title: str
    x_label: str
    y_label: str
    threshold: float | None = None
    integer_x: bool = False
    y_limits: tuple[float, float] | None = None  # fixed, e.g. 0-100 for a share in percent


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
    panel = Panel(series, title, x_label, y_label, threshold, integer_x)
    return draw_panels([panel], stem=stem, title=title)


def draw_panels(panels: list[Panel], *, stem: Path, title: str) -> DrawnFigure:
    """The panels side by side, 8x5 inches each (one title per panel, `title` in the files'
    metadata); writes `<stem>.png` and `<stem>.svg`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    width, height = FIGURE_SIZE_INCHES
    figure = Figure(figsize=(width * len(panels), height), dpi=FIGURE_DPI)
    FigureCanvasAgg(figure)
    legend: list[str] = []
    for index, panel in enumerate(panels):
        axes = figure.add_subplot(1, len(panels), index + 1)
        for line in panel.series:
            draw_series(axes, line)
        if panel.threshold is not None:
            draw_threshold(axes, panel.threshold)
        label_axes(axes, panel)
        legend += [text.get_text() for text in axes.legend(loc="upper right", fontsize=8).texts]
    figure.tight_layout()
    return DrawnFigure(
        paths=save_figure(figure, stem, title),
        title=title,
        legend=legend,
        series=[line for panel in panels for line in panel.series],
    )


def draw_series(axes: Axes, line: Series) -> None:
    axes.plot(
        line.x,
        line.y,
        label=line.label,
        color=line.colour,
        linestyle=line.linestyle,
        marker=line.marker,
        markersize=line.markersize,
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


def label_axes(axes: Axes, panel: Panel) -> None:
    from matplotlib.ticker import MaxNLocator

    axes.set_title(panel.title)
    axes.set_xlabel(panel.x_label)
    axes.set_ylabel(panel.y_label)
    axes.grid(True, alpha=0.3)
    if panel.integer_x:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    if panel.y_limits is not None:
        axes.set_ylim(*panel.y_limits)
    key = LINE_STYLE_KEY
    if any(line.band_low is not None for line in panel.series):
        key += f"   {BAND_KEY}"
    axes.text(0.01, 0.01, key, transform=axes.transAxes, fontsize=8, color="grey")


def save_figure(figure: Figure, stem: Path, title: str) -> list[Path]:
    """`<stem>.<format>` for each of FIGURE_FORMATS, titled in their metadata."""
    paths = []
    for extension in FIGURE_FORMATS:
        path = stem.with_suffix(f".{extension}")
        figure.savefig(path, format=extension, dpi=FIGURE_DPI, metadata={"Title": title})
        paths.append(path)
    return paths
