"""The overview figures `convergence_top1` and `convergence_top5`: every run (or, with
`--group-by model`, every model) on one figure per metric.

Each model is drawn in its catalog colour; counterparts share a hue family (blue for v3 and
Inception-ResNet-v1, red for v4 and Inception-ResNet-v2), so the paper's pairs read at a glance.
The paper's own figures, by number and over seeds, are drawn by paper_figures.py.
"""

from __future__ import annotations

from inception_cli import catalog
from inception_cli.comparison.plots import (
    DEFAULT_MARKER,
    SPARE_MARKERS,
    DrawnFigure,
    Series,
    draw_convergence,
    remove_stale_figure,
)
from inception_cli.comparison.results import METRIC_LABEL, CompareResult, model_rank, run_names
from inception_cli.comparison.series import (
    SPARE_COLOURS,
    group_series,
    plotted_points,
    validation_points,
)
from inception_cli.comparison.text import with_status

CONVERGENCE_STEMS = {metric: f"convergence_{metric}" for metric in ("top1", "top5")}
PAPER_FIGURE = {"top1": "Fig 26", "top5": "Fig 25"}
X_LABEL = {
    "epoch": "epoch",
    "hours": "wall-clock time (hours)",
    "step": "training step",
    "images": "images seen (steps x global batch)",
}


def model_colours(models: list[str]) -> dict[str, str]:
    """The catalog's colour of each model; the others take spare colours in turn."""
    colours = {}
    spare = iter(SPARE_COLOURS * (len(models) // len(SPARE_COLOURS) + 1))
    for model in sorted(set(models), key=model_rank):
        known = catalog.CATALOG.get(model)
        colours[model] = known.colour if known else next(spare)
    return colours


def run_markers(models: list[str]) -> list[str]:
    """The first run of each model takes the usual dot, later runs of that model a marker of
    their own: two runs of one model and config (say the default run and a sweep's run) share
    its colour and line style, and would otherwise be two lines that cannot be told apart."""
    earlier: dict[str, int] = {}  # runs of each model seen so far
    markers = []
    for model in models:
        count = earlier.get(model, 0)
        earlier[model] = count + 1
        if count == 0:
            markers.append(DEFAULT_MARKER)
        else:
            markers.append(SPARE_MARKERS[(count - 1) % len(SPARE_MARKERS)])
    return markers


def run_series(result: CompareResult, metric: str, colours: dict[str, str]) -> list[Series]:
    """One line per run; the legend names the run where several runs share a model."""
    series = []
    names = run_names(result.runs)
    markers = run_markers([run.model for run in result.runs])
    for run, name, marker in zip(result.runs, names, markers, strict=True):
        points = [(x, y) for _, x, y in plotted_points(run.curve, result.x, metric)]
        if not points:
            continue
        series.append(
            Series(
                label=with_status(name, run.status),
                model=run.model,
                colour=colours[run.model],
                residual=run.residual,
                x=[float(x) for x, _ in points],
                y=[y for _, y in points],
                marker=marker,
            )
        )
    return series


def overview_stems(metrics: tuple[str, ...]) -> list[str]:
    return [CONVERGENCE_STEMS[metric] for metric in metrics]


def write_figures(result: CompareResult) -> list[DrawnFigure]:
    """One figure per metric in `result.output_dir`, as PNG and SVG; a metric no run has is a
    warning, not a figure."""
    output_dir = result.output_dir
    written = []
    colours = model_colours([run.model for run in result.runs])
    for metric in CONVERGENCE_STEMS.keys() - set(result.metrics):  # an earlier comparison's
        remove_stale_figure(output_dir / CONVERGENCE_STEMS[metric])
    for metric in result.metrics:
        if result.group_by:
            by_label = {group.label: colours[group.model] for group in result.groups}
            points = validation_points(result.x, metric)
            series = group_series(result.groups, points, by_label, noun="runs")
        else:
            series = run_series(result, metric, colours)
        if not series:
            result.warnings.append(f"no run has {METRIC_LABEL[metric]} errors to plot")
            continue
        output_dir.mkdir(parents=True, exist_ok=True)
        drawn = draw_convergence(
            series,
            title=f"Validation {METRIC_LABEL[metric]} error ({PAPER_FIGURE[metric]} style)",
            x_label=X_LABEL[result.x],
            y_label=f"{METRIC_LABEL[metric]} error (%)",
            threshold=result.thresholds[metric],
            stem=output_dir / CONVERGENCE_STEMS[metric],
            integer_x=result.x != "hours",
        )
        result.drawn[metric] = drawn
        written.append(drawn)
    return written
