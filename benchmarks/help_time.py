"""Time `inception --help`: best of 5 fresh processes (target: under 0.3 s).

    python benchmarks/help_time.py
    python benchmarks/help_time.py --runs 10

The CLI imports torch, Lightning and the rest only inside the command that needs them, so
`--help` (and a typo's error message) should cost little more than Python's start-up; this
figure shows when an import at module level has crept back in. Python's own start-up is
timed too, for scale.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time

TARGET_S = 0.3


def best_time(command: list[str], runs: int) -> float:
    """The shortest wall time of `runs` runs of `command`; it must succeed."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="processes to start; the best counts")
    args = parser.parse_args()

    # The installed console script when there is one: that is what users type.
    script = shutil.which("inception")
    command = [script, "--help"] if script else [sys.executable, "-m", "inception_cli", "--help"]
    python_alone = best_time([sys.executable, "-c", "pass"], args.runs)
    help_time = best_time(command, args.runs)
    verdict = "within" if help_time < TARGET_S else "OVER"
    print(
        f"{' '.join(command)}: {help_time:.3f} s (best of {args.runs}); {verdict} the {TARGET_S} s target"
    )
    print(f"python -c pass: {python_alone:.3f} s, for scale")


if __name__ == "__main__":
    main()
