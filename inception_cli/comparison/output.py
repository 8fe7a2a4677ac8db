"""The folder `inception compare` writes to, and the files it may replace there.

The folder is chosen and created before any run is read, so a folder that cannot be written is
refused at once. Without --output it is a new folder beside the runs, `compare`, or `compare-1`,
`compare-2` ... when that name is taken: created in one step, so two comparisons started together
never share one, and an earlier comparison's output is never overwritten. Every file name is fixed
in advance (the stems each registered figure may write, figure_registry.py; report.html,
report.md), so a folder given with --output can be checked before anything is drawn: a file of one
of those names that the command did not write is never replaced.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from inception_cli.comparison.figure_registry import figure_kinds
from inception_cli.comparison.plots import FIGURE_FORMATS, written_by_matplotlib
from inception_cli.errors import InputError
from inception_cli.rundir import layout

REPORT_HTML = "report.html"
REPORT_MD = "report.md"
# Stamped into both reports (a <meta name="generator"> and a first-line comment).
REPORT_MARK = "inception compare"
DEFAULT_NAME = "compare"  # then compare-1, compare-2 ... (layout.unique_path)
DEFAULT_NAMES = re.compile(rf"{DEFAULT_NAME}(-\d+)?")
# A run lies in the folder that holds the runs, or one sweep folder below it.
RUN_DEPTH = 2
# A dangling link named compare-N is taken but does not exist: bounded, not endless.
CLAIM_TRIES = 100


def figure_stems(metrics: tuple[str, ...]) -> list[str]:
    """Every figure `compare` may draw for these metrics."""
    return [stem for kind in figure_kinds() for stem in kind.stems(metrics)]


def planned_files(output_dir: Path, metrics: tuple[str, ...]) -> list[Path]:
    figures = [
        output_dir / f"{stem}.{extension}"
        for stem in figure_stems(metrics)
        for extension in FIGURE_FORMATS
    ]
    return [*figures, output_dir / REPORT_HTML, output_dir / REPORT_MD]


def written_by_us(path: Path) -> bool:
    """A figure matplotlib wrote, or a report carrying our mark near its top."""
    if path.suffix.lstrip(".") in FIGURE_FORMATS:
        return written_by_matplotlib(path)
    with path.open("rb") as file:
        return REPORT_MARK.encode() in file.read(4096)


def looks_like_compare_output(path: Path) -> bool:
    """A folder of our own output, e.g. runs/compare/ picked up again by `runs/*`, or one that a
    comparison running now has just claimed and not yet written to."""
    names = [f"{stem}.{ext}" for stem in figure_stems(("top1", "top5")) for ext in FIGURE_FORMATS]
    if any((path / name).is_file() for name in [*names, REPORT_HTML]):
        return True
    return DEFAULT_NAMES.fullmatch(path.name) is not None and not any(path.iterdir())


def default_parent(run_dirs: list[Path]) -> Path:
    """The folder that holds the runs: their common parent when every run lies in it or in a
    sweep folder inside it (`runs/*` gives runs/, a sweep folder itself). Runs in different
    trees would give a far ancestor, even the file system's root: then the first run's parent."""
    resolved = [path.resolve() for path in run_dirs]
    common = Path(os.path.commonpath([str(path.parent) for path in resolved]))
    near = all(len(path.relative_to(common).parts) <= RUN_DEPTH for path in resolved)
    return common if near and common.parent != common else resolved[0].parent


def shown_relative(path: Path) -> Path:
    """`path` relative to the current directory when it lies inside it, as the user typed it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def claim_default_output(run_dirs: list[Path]) -> Path:
    """A new folder `compare` (or compare-1, ...) beside the runs, created here. mkdir either
    creates a name or fails, so a comparison running alongside never gets the same one."""
    base = default_parent(run_dirs) / DEFAULT_NAME
    for _ in range(CLAIM_TRIES):
        candidate = layout.unique_path(base)
        try:
            candidate.mkdir()
        except FileExistsError:
            continue  # claimed by another comparison between the look and the mkdir
        except OSError as err:
            raise InputError(
                f"cannot create the output folder {candidate} ({err.strerror or err});"
                " give a folder you can write to with --output"
            ) from None
        return shown_relative(candidate)
    raise InputError(f"no free name for the output folder beside {base}; give --output")


def open_output(output: Path | None, run_dirs: list[Path]) -> tuple[Path, bool]:
    """The output folder, created now, and whether this comparison created it (to remove it
    again, empty, if the comparison fails)."""
    if output is None:
        return claim_default_output(run_dirs), True
    if output.exists() and not output.is_dir():
        raise InputError(f"--output {output} is a file; give a folder for the figures")
    existed = output.is_dir()
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create --output {output} ({err.strerror or err})") from None
    if not os.access(output, os.W_OK | os.X_OK):
        raise InputError(f"--output {output} is not writable; give a folder you can write to")
    return output, not existed


def remove_if_empty(folder: Path) -> None:
    """The folder a failed comparison created, while nothing has been written to it."""
    with contextlib.suppress(OSError):  # not empty, or already gone
        folder.rmdir()


def check_output_dir(output_dir: Path, metrics: tuple[str, ...]) -> None:
    """Refuse to replace a file we did not write; our own earlier output may be replaced."""
    for path in planned_files(output_dir, metrics):
        if path.exists() and (not path.is_file() or not written_by_us(path)):
            kind = "figure" if path.suffix.lstrip(".") in FIGURE_FORMATS else "report"
            raise InputError(
                f"{path} exists and is not a {kind} from `inception compare`; "
                "move it or choose another --output"
            )
