"""Every figure `inception compare` draws, in one list: what draws it, the files it may write, and
where the report shows it.

A figure is a drawing function and a FigureKind below that names it. Registering it is all that
the rest needs: run_compare draws the kinds in this list's order (the order of `result.figures`),
output.py refuses to replace a file of one of their stems that the command did not write, and
report.py lays out report.html and report.md from their sections. A section that is not here yet
is a FigureSection naming the report section it follows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from inception_cli.comparison.figures import overview_stems, write_figures
from inception_cli.comparison.paper_figures import (
    paper_figures_not_drawn,
    paper_stems,
    write_paper_figures,
)
from inception_cli.comparison.plots import DrawnFigure
from inception_cli.comparison.report_tables import Table, scaling_table
from inception_cli.comparison.results import CompareResult
from inception_cli.comparison.scaling import scaling_stems, scaling_text, write_scaling_figure


def no_text(result: CompareResult) -> list[str]:
    return []


def no_tables(result: CompareResult) -> list[Table]:
    return []


@dataclass(frozen=True)
class FigureSection:
    """A section of the report that shows figures, with the text and tables that explain them."""

    id: str  # the HTML id, also what tests look for
    title: str
    # The id of the report section this one comes after: one of report.py's (statement, table2,
    # evals, runs, warnings) or another FigureSection's.
    after: str
    text: Callable[[CompareResult], list[str]] = no_text  # paragraphs above the figures
    tables: Callable[[CompareResult], list[Table]] = no_tables  # below the figures
    # Shown even when none of its figures was drawn, to say which were not and why.
    always: bool = False


@dataclass(frozen=True)
class FigureKind:
    """One kind of figure. `draw` writes its figures into `result.output_dir` as PNG and SVG,
    removes those of an earlier comparison that it no longer draws, and returns what it drew."""

    name: str
    draw: Callable[[CompareResult], list[DrawnFigure]]
    # Every file stem it may write for the metrics compared, known before anything is drawn.
    stems: Callable[[tuple[str, ...]], list[str]]
    section: FigureSection
    caption: str = "{title}"  # in the report, from the drawn figure's title
    # Figures it could not draw, each with the reason, for the section's "Not drawn" line.
    not_drawn: Callable[[CompareResult], list[str]] = no_text
    # Within its section, lower first; equal ones keep this list's order. Lets the report's
    # order differ from the drawing order, which `result.figures` and its printout keep.
    order: int = 0

    def write(self, result: CompareResult) -> None:
        drawn = self.draw(result)
        result.figures_by_kind[self.name] = drawn
        result.figures.extend(path for figure in drawn for path in figure.paths)


def scaling_tables(result: CompareResult) -> list[Table]:
    return [scaling_table(result.seed_groups)]


CONVERGENCE = FigureSection(
    "figures", "Convergence figures (Figs 21-26)", after="statement", always=True
)
SCALING = FigureSection(
    "scaling",
    "Residual scaling (section 3.3, Fig 20)",
    after="evals",
    text=scaling_text,
    tables=scaling_tables,
)

FIGURE_KINDS: list[FigureKind] = [
    # The overview, convergence_top1 / _top5: every run, drawn first and shown last.
    FigureKind(
        "overview",
        write_figures,
        overview_stems,
        CONVERGENCE,
        caption="Overview: {title}",
        order=1,
    ),
    FigureKind(
        "paper",
        write_paper_figures,
        paper_stems,
        CONVERGENCE,
        not_drawn=paper_figures_not_drawn,
    ),
    FigureKind("residual_scaling", write_scaling_figure, scaling_stems, SCALING),
]


def figure_kinds() -> list[FigureKind]:
    """The registered kinds, looked up on each call, so a test can register one of its own."""
    return list(FIGURE_KINDS)
