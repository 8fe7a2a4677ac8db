"""The Figs 25/26 style convergence figures of a comparison, and the folder they are written to.

Each model is drawn in its catalog colour; counterparts share a hue family (blue for v3 and
Inception-ResNet-v1, red for v4 and Inception-ResNet-v2), so the paper's pairs read at a glance.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Iterator
from pathlib import Path

from inception_cli import catalog
from inception_cli.comparison.plots import (
    FIGURE_FORMATS,
    Series,
    draw_convergence,
    written_by_matplotlib,
)
from inception_cli.comparison.results import (
    METRIC_LABEL,
    CompareResult,
    ValPoint,
    model_rank,
    run_names,
)
from inception_cli.comparison.text import with_status
from inception_cli.errors import InputError

PAPER_FIGURE = {"top1": "Fig 26", "top5": "Fig 25"}
X_LABEL = {"epoch": "epoch", "hours": "wall-clock time (hours)", "step": "training step"}
FIGURE_STEMS = {metric: f"convergence_{metric}" for metric in ("top1", "top5")}
# For models the catalog does not know (run directories from elsewhere).
SPARE_COLOURS = ("#2ca02c", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")


def looks_like_compare_output(path: Path) -> bool:
    """A folder of our own figures, e.g. runs/compare/ picked up again by `runs/*`."""
    return any(
        (path / f"{stem}.{extension}").is_file()
        for stem in FIGURE_STEMS.values()
        for extension in FIGURE_FORMATS
    )


def default_output_dir(run_dirs: list[Path]) -> Path:
    """`<common parent of the runs>/compare`: runs/* gives runs/compare, a sweep its own."""
    parents = [str(path.resolve().parent) for path in run_dirs]
    common = Path(os.path.commonpath(parents))
    try:
        return (common / "compare").relative_to(Path.cwd())
    except ValueError:
        return common / "compare"


def check_output_dir(output_dir: Path, metrics: tuple[str, ...]) -> None:
    """Refuse to replace a file we did not write; our own earlier figures may be replaced."""
    if output_dir.exists() and not output_dir.is_dir():
        raise InputError(f"--output {output_dir} is a file; give a folder for the figures")
    for metric in metrics:
        for extension in FIGURE_FORMATS:
            path = output_dir / f"{FIGURE_STEMS[metric]}.{extension}"
            if path.exists() and (not path.is_file() or not written_by_matplotlib(path)):
                raise InputError(
                    f"{path} exists and is not a figure from `inception compare`; "
                    "move it or choose another --output"
                )


def model_colours(models: list[str]) -> dict[str, str]:
    """The catalog's colour of each model; the others take spare colours in turn."""
    colours = {}
    spare = iter(SPARE_COLOURS * (len(models) // len(SPARE_COLOURS) + 1))
    for model in sorted(set(models), key=model_rank):
        known = catalog.CATALOG.get(model)
        colours[model] = known.colour if known else next(spare)
    return colours


def plotted_points(
    curve: list[ValPoint], x_axis: str, metric: str
) -> Iterator[tuple[ValPoint, float, float]]:
    """The validations that have both a position on `x_axis` and an error for `metric`."""
    for point in curve:
        x, y = point.position(x_axis), point.error(metric)
        if x is not None and y is not None:
            yield point, x, y


def run_series(result: CompareResult, metric: str, colours: dict[str, str]) -> list[Series]:
    series = []
    for run, name in zip(result.runs, run_names(result.runs), strict=True):
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
            )
        )
    return series


def group_series(result: CompareResult, metric: str, colours: dict[str, str]) -> list[Series]:
    """Mean over seeds at each epoch, with a min-max band; x is the mean position there."""
    series = []
    for group in result.groups:
        by_epoch: dict[int, list[tuple[float, float]]] = {}
        for run in group.aggregated:
            for point, x, y in plotted_points(run.curve, result.x, metric):
                by_epoch.setdefault(point.epoch, []).append((x, y))
        if not by_epoch:
            continue
        epochs = sorted(by_epoch)
        ys = [[y for _, y in by_epoch[e]] for e in epochs]
        count = len(group.aggregated)
        name = catalog.display_name(group.model)
        series.append(
            Series(
                label=f"{name} (mean of {count} runs)" if count > 1 else name,
                model=group.model,
                colour=colours[group.model],
                residual=group.residual,
                x=[statistics.fmean(x for x, _ in by_epoch[e]) for e in epochs],
                y=[statistics.fmean(values) for values in ys],
                band_low=[min(values) for values in ys] if count > 1 else None,
                band_high=[max(values) for values in ys] if count > 1 else None,
            )
        )
    return series


def write_figures(result: CompareResult) -> None:
    """One figure per metric in `result.output_dir`, as PNG and SVG; a metric no run has is a
    warning, not a figure."""
    output_dir = result.output_dir
    colours = model_colours([run.model for run in result.runs])
    for metric in result.metrics:
        series = (group_series if result.group_by else run_series)(result, metric, colours)
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
            stem=output_dir / FIGURE_STEMS[metric],
            integer_x=result.x != "hours",
        )
        result.drawn[metric] = drawn
        result.figures.extend(drawn.paths)
