"""The output of a default run, a resume and a 2-process CPU DDP run holds no warning other
than those docs/training.md ("Warnings") lists as expected: the ones that are not the user's
business are silenced on purpose (training/environment.py says why each is harmless)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.user import inception

SHORT = ["trainer.limit_train_batches=3", "trainer.limit_val_batches=1"]
DOCS = Path(__file__).resolve().parents[1] / "docs" / "training.md"


def expected_warnings() -> list[str]:
    """The quoted texts of the list under docs/training.md's "Warnings" heading."""
    text = DOCS.read_text().split("\n## Warnings\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^- `([^`]+)`", text, flags=re.MULTILINE)


def warnings_in(output: str) -> list[str]:
    allowed = expected_warnings()
    return [
        line
        for line in output.splitlines()
        if re.search(r"warn", line, flags=re.IGNORECASE) and not any(a in line for a in allowed)
    ]


@pytest.mark.slow
def test_default_run_and_its_resume_print_no_warning(tmp_path: Path) -> None:
    first = inception(tmp_path, "train", *SHORT, "trainer.max_epochs=1")
    assert first.returncode == 0, first.stderr[-3000:]
    assert warnings_in(first.stdout + first.stderr) == []
    (run_dir,) = (tmp_path / "runs").iterdir()
    resumed = inception(tmp_path, "train", f"resume={run_dir}", "trainer.max_epochs=2")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert warnings_in(resumed.stdout + resumed.stderr) == []


@pytest.mark.slow
def test_two_process_cpu_ddp_run_prints_no_warning(tmp_path: Path) -> None:
    done = inception(
        tmp_path, "train", *SHORT, "trainer.max_epochs=1", "trainer.devices=2", "data.batch_size=8"
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert warnings_in(done.stdout + done.stderr) == []


def test_the_expected_warnings_are_listed() -> None:
    assert expected_warnings(), "docs/training.md lists the warnings a user may see"
