"""report.html: the report as one self-contained page. The figures are embedded as data URIs
and the style is inline, so the file opens from disk in any browser, mailed or copied alone."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from inception_cli.comparison.output import REPORT_MARK
from inception_cli.comparison.report import FigureRef, Report, Section
from inception_cli.comparison.report_tables import Table
from inception_cli.rundir.durable import atomic_write_text

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 75rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem;
     border-bottom: 1px solid #ddd; }
figure { margin: 1.2rem 0; } figure img { max-width: 100%; height: auto;
     border: 1px solid #eee; }
figcaption { font-size: 0.9rem; color: #555; }
table { border-collapse: collapse; margin: 0.6rem 0 1.4rem; font-size: 0.88rem; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.55rem; text-align: left;
         vertical-align: top; }
th { background: #f4f4f4; } code { background: #f4f4f4; padding: 0 0.2rem; }
"""


def inline(text: str) -> str:
    """Escaped text, with `code` spans as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def data_uri(png: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")


def figure_html(figure: FigureRef) -> str:
    caption = inline(figure.caption)
    return (
        f'<figure id="{html.escape(figure.png.stem)}"><img src="{data_uri(figure.png)}"'
        f' alt="{caption}"><figcaption>{caption}</figcaption></figure>'
    )


def table_html(table: Table) -> str:
    head = "".join(f"<th>{inline(cell)}</th>" for cell in table.header)
    body = "".join(
        "<tr>" + "".join(f"<td>{inline(cell)}</td>" for cell in row) + "</tr>" for row in table.rows
    )
    return (
        f'<table id="{table.id}"><caption>{inline(table.caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def section_html(section: Section) -> str:
    parts = [f'<section id="{section.id}"><h2>{inline(section.title)}</h2>']
    parts += [f"<p>{inline(paragraph)}</p>" for paragraph in section.paragraphs]
    if section.bullets:
        parts.append("<ul>" + "".join(f"<li>{inline(b)}</li>" for b in section.bullets) + "</ul>")
    parts += [figure_html(figure) for figure in section.figures]
    parts += [table_html(table) for table in section.tables]
    return "\n".join([*parts, "</section>"])


def report_html(report: Report) -> str:
    head = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="generator" content="{REPORT_MARK}">'
        f"<title>{inline(report.title)}</title><style>{STYLE}</style></head><body>"
    )
    intro = "".join(f"<p>{inline(paragraph)}</p>" for paragraph in report.intro)
    sections = "\n".join(section_html(section) for section in report.sections)
    return f"{head}\n<h1>{inline(report.title)}</h1>{intro}\n{sections}\n</body></html>\n"


def write_html(report: Report, path: Path) -> Path:
    # Replaced in one step: a browser or editor holding the old report never sees half a file.
    atomic_write_text(path, report_html(report))
    return path
