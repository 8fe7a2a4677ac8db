"""Put on PYTHONPATH by tests/test_trust.py: a process in which INCEPTION_TEST_MARKER is set in
the environment (by Hydra's `hydra.job.env_set`, say) leaves the file it names behind."""

import sys
from pathlib import Path
from typing import Any


def _probe(event: str, args: tuple[Any, ...]) -> None:
    if (
        event == "os.putenv"
        and args
        and args[0] in ("INCEPTION_TEST_MARKER", b"INCEPTION_TEST_MARKER")
    ):
        value = args[1].decode() if isinstance(args[1], bytes) else str(args[1])
        Path(value).write_text("the environment was set from a config")


sys.addaudithook(_probe)
