"""Developer sessions: `nox -s tests lint typecheck docs`."""

from __future__ import annotations

import re
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "docs"]
ROOT = Path(__file__).parent


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite (fast tests; `nox -s tests -- -m slow` for the slow ones)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "inception_cli", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "inception_cli", "tests", "benchmarks", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".", "mypy")
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """Every relative link and image in README.md and docs/ points at a file that exists, and
    every command the docs show parses."""
    missing = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)[^)]*\)", page.read_text()):
            if "://" not in target and not (page.parent / target).exists():
                missing.append(f"{page.relative_to(ROOT)}: {target}")
    if missing:
        session.error("broken links:\n" + "\n".join(missing))
    session.install("-e", ".[test]")
    for command in ("train", "eval", "compare", "models", "bench", "config"):
        session.run("inception", command, "--help", silent=True)
    # Every command the docs show still works as written (tests/test_docs.py).
    session.run("pytest", "-q", "tests/test_docs.py")
