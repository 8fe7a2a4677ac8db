"""Bad input and faults for `inception eval`, as a user meets them: one line `error: ...` on
stderr, exit status 2, no traceback, and nothing an earlier run wrote is lost. The output file
is chosen and created before any network is loaded or image read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.user import assert_one_line_error, fingerprint, finished_run, inception

# Starting the interpreter takes about a second on a quiet machine; loading torch, a network and
# images takes several more. A failure that arrives within this bound came before all of that.
FAST_FAILURE_S = 5.0
CLASSES = 10  # the tiny run's classes


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with one tiny finished run in runs/, as a user would have it."""
    cwd = tmp_path_factory.mktemp("eval_bad_input")
    finished_run(cwd)
    return cwd


@pytest.fixture(scope="module")
def run_dir(workdir: Path) -> Path:
    (found,) = [p for p in (workdir / "runs").iterdir() if p.is_dir() and p.name[0] != "."]
    return found


def image_folder(root: Path, *, empty_class: bool = False, stray: str | None = None) -> Path:
    """val/<class>/ folders of one small PNG each, for the tiny run's 10 classes."""
    import torch
    from torchvision.io import write_png

    for index in range(CLASSES):
        folder = root / "val" / f"n{index:08d}"
        folder.mkdir(parents=True)
        if empty_class and index == CLASSES - 1:
            continue
        pixels = torch.full((3, 40, 48), 25 * index, dtype=torch.uint8)
        write_png(pixels, str(folder / "image.png"))
    if stray is not None:  # a file that is no image, named e.g. notes.txt or broken.png
        (root / "val" / "n00000000" / stray).write_text("not an image\n")
    return root / "val"


def eval_timed(cwd: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = inception(cwd, "eval", *args)
    return done, time.monotonic() - started


# ------------------------------------------------------------------------------- outputs first


def unwritable_output(tmp_path: Path, where: str) -> Path:
    if where == "proc":
        return Path("/proc/eval_result.json")
    if where == "under a file":
        (tmp_path / "a_file").write_text("x")
        return tmp_path / "a_file" / "result.json"
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o500)
    return folder / "result.json"


@pytest.mark.parametrize("where", ["proc", "under a file", "read-only folder"])
def test_an_output_that_cannot_be_written_fails_at_once(
    workdir: Path, run_dir: Path, tmp_path: Path, where: str
) -> None:
    before = fingerprint(run_dir)
    output = unwritable_output(tmp_path, where)
    done, seconds = eval_timed(workdir, str(run_dir), "--crops", "144", "--output", str(output))
    assert_one_line_error(done, "cannot write the result to")
    assert seconds < FAST_FAILURE_S, f"{seconds:.1f} s: the check came after loading"
    assert fingerprint(run_dir) == before


def test_the_output_is_checked_before_the_network_is_loaded(
    workdir: Path, run_dir: Path, tmp_path: Path
) -> None:
    """A run whose checkpoint cannot be read: the output's error comes first."""
    broken = tmp_path / "broken_run"
    shutil.copytree(run_dir, broken)
    for checkpoint in (broken / "checkpoints").iterdir():
        checkpoint.write_bytes(b"not a checkpoint")
    done = inception(workdir, "eval", str(broken), "--output", "/proc/eval_result.json")
    assert_one_line_error(done, "cannot write the result to /proc/eval_result.json")


def test_an_output_folder_receives_a_new_file(workdir: Path, run_dir: Path, tmp_path: Path) -> None:
    before = fingerprint(run_dir)
    done = inception(workdir, "eval", str(run_dir), "--output", str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((tmp_path / "1crop.json").read_text())["protocol"]["crops"] == 1
    assert fingerprint(run_dir) == before


def test_an_existing_output_file_is_never_overwritten(
    workdir: Path, run_dir: Path, tmp_path: Path
) -> None:
    earlier = tmp_path / "result.json"
    earlier.write_text('{"kept": true}\n')
    done = inception(workdir, "eval", str(run_dir), "--output", str(earlier))
    assert done.returncode == 0, done.stderr[-3000:]
    assert earlier.read_text() == '{"kept": true}\n'
    assert json.loads((tmp_path / "result-1.json").read_text())["images"]["evaluated"] > 0


def test_concurrent_evaluations_never_pick_the_same_file(tmp_path: Path) -> None:
    from inception_cli.evaluation.output import reserve

    first, second = reserve(tmp_path / "r.json"), reserve(tmp_path / "r.json")
    try:
        assert (first.path.name, second.path.name) == ("r.json", "r-1.json")
    finally:
        first.release()
        second.release()
    assert not list(tmp_path.iterdir())  # no result written: nothing left behind


def test_concurrent_processes_never_pick_the_same_file(tmp_path: Path) -> None:
    script = (
        "import sys, time; from pathlib import Path; "
        "from inception_cli.evaluation.output import reserve; "
        "held = reserve(Path(sys.argv[1])); print(held.path.name, flush=True); time.sleep(3)"
    )
    holders = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path / "r.json")],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    names = [holder.communicate(timeout=60)[0].strip() for holder in holders]
    assert sorted(names) == ["r-1.json", "r-2.json", "r-3.json", "r.json"]


def test_an_abandoned_empty_output_is_taken_over_and_a_written_one_kept(tmp_path: Path) -> None:
    from inception_cli.evaluation.output import reserve

    (tmp_path / "r.json").write_text("")  # what a killed evaluation leaves
    (tmp_path / "r-1.json").write_text("{}\n")
    taken = reserve(tmp_path / "r.json")
    assert taken.path.name == "r.json"
    taken.write('{"new": 1}\n')
    taken.release()
    assert (tmp_path / "r.json").read_text() == '{"new": 1}\n'
    assert (tmp_path / "r-1.json").read_text() == "{}\n"


# ------------------------------------------------------------------------ blacklist and data


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "/bin/ls is not a text file"),
        ("", "lists no image"),
        ("# only a comment\n", "lists no image"),
        ("12\nseven\n", "'seven' is not an integer"),
    ],
    ids=["binary", "empty", "comment only", "not a number"],
)
def test_a_bad_blacklist_is_one_line(
    workdir: Path, run_dir: Path, tmp_path: Path, content: str | None, message: str
) -> None:
    blacklist = Path("/bin/ls")
    if content is not None:
        blacklist = tmp_path / "blacklist.txt"
        blacklist.write_text(content)
    before = fingerprint(run_dir)
    done = inception(workdir, "eval", str(run_dir), "--exclude-blacklist", str(blacklist))
    assert_one_line_error(done, message)
    assert fingerprint(run_dir) == before
    assert not (run_dir / "eval").exists() or not any((run_dir / "eval").rglob("*.json"))


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("missing", "is neither a folder nor a data preset"),
        ("empty", "is an empty folder"),
        ("file", "is a file"),
    ],
)
def test_bad_data_folders_are_one_line(
    workdir: Path, run_dir: Path, tmp_path: Path, layout: str, message: str
) -> None:
    data = tmp_path / "imagenet"
    if layout == "empty":
        data.mkdir()
    elif layout == "file":
        data.write_text("x")
    before = fingerprint(run_dir)
    done = inception(workdir, "eval", str(run_dir), "--data", str(data))
    assert_one_line_error(done, message)
    assert fingerprint(run_dir) == before


@pytest.mark.parametrize(
    ("empty_class", "stray", "evaluated", "corrupt"),
    [
        (True, None, CLASSES - 1, 0),
        (False, "notes.txt", CLASSES, 0),
        (False, "broken.png", CLASSES, 1),
    ],
    ids=["empty class folder", "text file", "text file named .png"],
)
def test_odd_data_folders_give_a_clean_result(
    workdir: Path,
    run_dir: Path,
    tmp_path: Path,
    empty_class: bool,
    stray: str | None,
    evaluated: int,
    corrupt: int,
) -> None:
    """A class without images still counts as a class; a file that is not an image is left
    out by its name, or counted as corrupt when its name says image."""
    data = image_folder(tmp_path / "imagenet", empty_class=empty_class, stray=stray)
    output = tmp_path / "result.json"
    done = inception(workdir, "eval", str(run_dir), "--data", str(data), "--output", str(output))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    images = json.loads(output.read_text())["images"]
    assert (images["evaluated"], images["corrupt"]) == (evaluated, corrupt)
