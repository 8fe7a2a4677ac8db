"""The reproduction report: what the runs show beside what the paper reports, as sections that
report_html.py and report_md.py write out (report.html, self-contained; report.md beside the
figures)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from inception_cli import catalog
from inception_cli.comparison.evals import EvalRow
from inception_cli.comparison.paper import (
    DEATH_FILTERS,
    ENSEMBLE_IMAGES,
    FIGURES,
    RESIDUAL_SCALES,
    RESIDUAL_SCALING_STEM,
    SINGLE_MODEL_IMAGES,
    SOURCE,
    PaperFigure,
)
from inception_cli.comparison.plots import DrawnFigure
from inception_cli.comparison.report_tables import (
    Table,
    eval_table,
    runs_table,
    scaling_table,
    table2,
)
from inception_cli.comparison.results import METRIC_LABEL, CompareResult
from inception_cli.comparison.tables import display_columns

TITLE = "Reproduction report: Inception-v4, Inception-ResNet and residual connections"


@dataclass(frozen=True)
class FigureRef:
    png: Path
    caption: str


@dataclass
class Section:
    id: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    figures: list[FigureRef] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


@dataclass
class Report:
    title: str
    intro: list[str]
    sections: list[Section]


def png_of(drawn: DrawnFigure) -> Path:
    return next(path for path in drawn.paths if path.suffix == ".png")


def statement_section(result: CompareResult) -> Section:
    thresholds = [
        f"Threshold {METRIC_LABEL[m]}: {level:.1f}% ({result.threshold_rules[m]})."
        for m in result.metrics
        if (level := result.thresholds[m]) is not None
    ]
    gaps = (
        "A gap is called faster or lower “on every seed” when the ranges of the two groups'"
        " seeds do not overlap, and “within seed noise” when they do."
    )
    return Section("statement", "What the runs show", [*thresholds, gaps], list(result.statement))


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


def figures_section(result: CompareResult) -> Section:
    section = Section("figures", "Convergence figures (Figs 21-26)")
    for figure in FIGURES:
        drawn = result.paper_figures.get(figure.stem)
        if drawn is not None:
            section.figures.append(FigureRef(png_of(drawn), drawn.title))
    missing = [why_not_drawn(f, result) for f in FIGURES if f.stem not in result.paper_figures]
    if missing:
        section.paragraphs.append(f"Not drawn: {'; '.join(missing)}.")
    for metric in result.metrics:  # the overview figures, convergence_top1 and _top5
        drawn = result.drawn.get(metric)
        if drawn is not None:
            section.figures.append(FigureRef(png_of(drawn), f"Overview: {drawn.title}"))
    return section


def notes_on_scale(result: CompareResult) -> list[str]:
    settings = [run.settings for run in result.runs if run.settings is not None]
    notes = list(result.notes)  # the top-5 error on few classes (classes.py)
    if any(s.data is not None and s.data != "imagenet" for s in settings):
        notes.append(
            "The paper's numbers are ImageNet (1,000 classes, 299 px inputs, about 160 epochs);"
            " runs on other data or at CPU scale are set beside them for their order and gaps,"
            " not their values."
        )
    return notes


def table2_section(result: CompareResult) -> Section:
    source = f"Paper: {SOURCE}; single model, single crop, {SINGLE_MODEL_IMAGES}."
    convergence = Table("convergence", "Convergence (every run)", *display_columns(result))
    return Section(
        "table2",
        "Single-crop errors beside the paper's Table 2",
        [source, *notes_on_scale(result)],
        tables=[table2(result.seed_groups), convergence],
    )


def evals_section(rows: list[EvalRow]) -> Section:
    section = Section("evals", "Multi-crop and ensemble evaluations (Tables 2 and 5)")
    if not rows:
        section.paragraphs.append(
            "No `inception eval` results in these runs. `inception eval runs/<id> --crops 10`"
            " (or 144; several runs for an ensemble) writes runs/<id>/eval/*.json, which this"
            " section then sets beside the paper's 12- and 144-crop and ensemble errors."
        )
        return section
    section.paragraphs.append(
        f"Paper: {SOURCE}. Single models on {SINGLE_MODEL_IMAGES}, ensembles on"
        f" {ENSEMBLE_IMAGES}. The paper's 12-crop protocol is defined nowhere; a 10-crop"
        " result is set beside its 12-crop number (docs/eval.md)."
    )
    section.tables.append(eval_table(rows))
    return section


def scaling_section(result: CompareResult) -> Section | None:
    drawn = result.paper_figures.get(RESIDUAL_SCALING_STEM)
    if drawn is None:
        return None
    low, high = RESIDUAL_SCALES
    text = (
        f"Section 3.3 of the paper: with more than about {DEATH_FILTERS:,} filters the residual"
        " networks became unstable and “died” early in training (the last layer before the"
        f" average pooling produced only zeros) unless the residuals were scaled by {low} to"
        f" {high} before being added (Fig 20). Left: the share of exact zeros there"
        " (train/dead_fraction); right: the top-1 error of the same runs."
    )
    return Section(
        "scaling",
        "Residual scaling (section 3.3, Fig 20)",
        [text],
        figures=[FigureRef(png_of(drawn), drawn.title)],
        tables=[scaling_table(result.seed_groups)],
    )


def build_report(result: CompareResult, eval_rows: list[EvalRow]) -> Report:
    runs, groups = len(result.runs), len(result.seed_groups)
    intro = [
        f"{runs} run{'s' if runs != 1 else ''} in {groups} group{'s' if groups != 1 else ''}"
        f" of seeds (runs that differ only in their seed); x axis: {result.x}."
        f" Paper: {SOURCE}.",
    ]
    sections = [
        statement_section(result),
        figures_section(result),
        table2_section(result),
        evals_section(eval_rows),
    ]
    scaling = scaling_section(result)
    if scaling is not None:
        sections.append(scaling)
    sections.append(Section("runs", "Runs and settings", tables=[runs_table(result.seed_groups)]))
    if result.warnings:
        sections.append(Section("warnings", "Warnings", bullets=list(result.warnings)))
    return Report(TITLE, intro, sections)
