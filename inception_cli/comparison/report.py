"""The reproduction report: what the runs show beside what the paper reports, as sections that
report_html.py and report_md.py write out (report.html, self-contained; report.md beside the
figures). The sections that show figures, and where they go, come from figure_registry.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from inception_cli.comparison.evals import EvalRow
from inception_cli.comparison.figure_registry import FigureKind, FigureSection, figure_kinds
from inception_cli.comparison.paper import ENSEMBLE_IMAGES, SINGLE_MODEL_IMAGES, SOURCE
from inception_cli.comparison.plots import DrawnFigure
from inception_cli.comparison.report_tables import Table, eval_table, runs_table, table2
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


def figure_refs(kinds: list[FigureKind], result: CompareResult) -> list[FigureRef]:
    return [
        FigureRef(png_of(drawn), kind.caption.format(title=drawn.title))
        for kind in kinds
        for drawn in result.figures_by_kind.get(kind.name, [])
    ]


def figure_section(spec: FigureSection, result: CompareResult) -> Section | None:
    """The section with the figures of every kind registered to it; None when it has nothing
    to show."""
    kinds = sorted((kind for kind in figure_kinds() if kind.section == spec), key=lambda k: k.order)
    figures = figure_refs(kinds, result)
    if not figures and not spec.always:
        return None
    paragraphs = list(spec.text(result))
    missing = [reason for kind in kinds for reason in kind.not_drawn(result)]
    if missing:
        paragraphs.append(f"Not drawn: {'; '.join(missing)}.")
    return Section(spec.id, spec.title, paragraphs, figures=figures, tables=spec.tables(result))


def with_figure_sections(
    own: list[tuple[str, Section | None]], result: CompareResult
) -> list[Section]:
    """The report's own sections (by id; None where one has nothing to say), each followed by
    the figure sections that name it, and those by the ones that name them in turn."""
    specs = list(dict.fromkeys(kind.section for kind in figure_kinds()))
    placed: list[Section] = []
    seen: set[str] = set()

    def follow(anchor: str) -> None:
        for spec in specs:
            if spec.after == anchor and spec.id not in seen:
                seen.add(spec.id)
                section = figure_section(spec, result)
                if section is not None:
                    placed.append(section)
                follow(spec.id)

    for anchor, section in own:
        if section is not None:
            placed.append(section)
        follow(anchor)
    # A section that follows none would silently drop its figures from the report.
    lost = [spec.id for spec in specs if spec.id not in seen]
    if lost:
        raise ValueError(f"figure sections {lost} follow no section of the report")
    return placed


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


def build_report(result: CompareResult, eval_rows: list[EvalRow]) -> Report:
    runs, groups = len(result.runs), len(result.seed_groups)
    intro = [
        f"{runs} run{'s' if runs != 1 else ''} in {groups} group{'s' if groups != 1 else ''}"
        f" of seeds (runs that differ only in their seed); x axis: {result.x}."
        f" Paper: {SOURCE}.",
    ]
    warnings = Section("warnings", "Warnings", bullets=list(result.warnings))
    own = [
        ("statement", statement_section(result)),
        ("table2", table2_section(result)),
        ("evals", evals_section(eval_rows)),
        ("runs", Section("runs", "Runs and settings", tables=[runs_table(result.seed_groups)])),
        ("warnings", warnings if result.warnings else None),
    ]
    return Report(TITLE, intro, with_figure_sections(own, result))
