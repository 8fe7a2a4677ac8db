"""The paper's convergence figures by number, over seeds: Figs 21-24 set each pure network
beside its residual counterpart of similar cost (top-1, then top-5), Fig 25 (top-5) and Fig 26
(top-1) show them all.

Each figure draws every group of seeds (runs that differ only in the seed) as its mean with a
band for the spread (series.py). A pair figure is drawn only when both of its networks are among
the runs; the residual side also takes the catalog's other counterparts of the pure network
(irv2_paper beside irv2 for Inception-v4).
"""

from __future__ import annotations

from inception_cli import catalog
from inception_cli.comparison.figures import X_LABEL
from inception_cli.comparison.paper import FIGURES, PaperFigure
from inception_cli.comparison.plots import DrawnFigure, draw_convergence, remove_stale_figure
from inception_cli.comparison.results import METRIC_LABEL, CompareResult, GroupResult
from inception_cli.comparison.series import group_colours, group_series, validation_points


def counterparts(pure: str) -> set[str]:
    """The residual networks the catalog pairs with the pure network `pure`."""
    return {name for name, entry in catalog.CATALOG.items() if entry.paper_pair == pure}


def groups_of(figure: PaperFigure, groups: list[GroupResult]) -> list[GroupResult]:
    """The groups the figure shows; none for a pair figure that lacks one of its sides."""
    if figure.pure is None:
        return groups
    pure = [group for group in groups if group.model == figure.pure]
    residual = [group for group in groups if group.model in counterparts(figure.pure)]
    return [*pure, *residual] if pure and residual else []


def title_of(figure: PaperFigure) -> str:
    error = f"{METRIC_LABEL[figure.metric]} error"
    if figure.pure is None or figure.residual is None:
        return f"Fig {figure.number}: validation {error} of all networks"
    pure, residual = catalog.display_name(figure.pure), catalog.display_name(figure.residual)
    return f"Fig {figure.number}: validation {error}, {pure} vs {residual}"


def paper_stems(metrics: tuple[str, ...]) -> list[str]:
    return [figure.stem for figure in FIGURES if figure.metric in metrics]


def write_paper_figures(result: CompareResult) -> list[DrawnFigure]:
    """Figs 21-26 for the metrics compared, as PNG and SVG in `result.output_dir`; a figure of
    an earlier comparison that this one does not draw is removed."""
    colours = group_colours(result.seed_groups)
    written = []
    for figure in FIGURES:
        stem = result.output_dir / figure.stem
        shown = groups_of(figure, result.seed_groups)
        points = validation_points(result.x, figure.metric)
        series = group_series(shown, points, colours) if figure.metric in result.metrics else []
        if not series:
            remove_stale_figure(stem)
            continue
        result.output_dir.mkdir(parents=True, exist_ok=True)
        drawn = draw_convergence(
            series,
            title=title_of(figure),
            x_label=X_LABEL[result.x],
            y_label=f"{METRIC_LABEL[figure.metric]} error (%)",
            threshold=result.thresholds.get(figure.metric),
            stem=stem,
            integer_x=result.x != "hours",
        )
        result.paper_figures[figure.stem] = drawn
        written.append(drawn)
    return written


def why_not_drawn(figure: PaperFigure, result: CompareResult) -> str:
    left_out = figure.metric == "top5" and figure.metric not in result.metrics and result.notes
    if left_out:  # few classes (classes.py)
        return f"Fig {figure.number}: top-5 left out ({result.classes} classes)"
    if figure.metric not in result.metrics:
        return f"Fig {figure.number}: {METRIC_LABEL[figure.metric]} not compared"
    if figure.pure is None or figure.residual is None:
        return f"Fig {figure.number}: no {METRIC_LABEL[figure.metric]} errors to draw"
    pure, residual = catalog.display_name(figure.pure), catalog.display_name(figure.residual)
    return f"Fig {figure.number}: needs both {pure} and {residual} among the runs"


def paper_figures_not_drawn(result: CompareResult) -> list[str]:
    """Each of Figs 21-26 that this comparison did not draw, and why: the report lists them, as
    a reader of the paper looks for all six."""
    return [why_not_drawn(f, result) for f in FIGURES if f.stem not in result.paper_figures]
