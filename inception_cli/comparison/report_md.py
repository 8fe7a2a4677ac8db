"""report.md: the report in Markdown, beside the figures it shows (linked by file name)."""

from __future__ import annotations

from pathlib import Path

from inception_cli.comparison.output import REPORT_MARK
from inception_cli.comparison.report import Report, Section
from inception_cli.comparison.report_tables import Table
from inception_cli.comparison.tables import markdown_table
from inception_cli.rundir.durable import atomic_write_text


def table_markdown(table: Table) -> list[str]:
    return [f"**{table.caption}**", "", markdown_table(table.header, table.rows), ""]


def section_markdown(section: Section) -> list[str]:
    lines = [f"## {section.title}", ""]
    for paragraph in section.paragraphs:
        lines += [paragraph, ""]
    if section.bullets:
        lines += [*(f"- {bullet}" for bullet in section.bullets), ""]
    for figure in section.figures:
        lines += [f"![{figure.caption}]({figure.png.name})", "", f"*{figure.caption}*", ""]
    for table in section.tables:
        lines += table_markdown(table)
    return lines


def report_markdown(report: Report) -> str:
    lines = [f"<!-- written by {REPORT_MARK}; replaced each time it runs -->", ""]
    lines += [f"# {report.title}", ""]
    for paragraph in report.intro:
        lines += [paragraph, ""]
    for section in report.sections:
        lines += section_markdown(section)
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(report: Report, path: Path) -> Path:
    # Replaced in one step: a browser or editor holding the old report never sees half a file.
    atomic_write_text(path, report_markdown(report))
    return path
