"""Whether a gap between two groups of seeds is larger than the spread of the seeds.

The test is deliberately plain: a group is ahead "on every seed" when its worst seed is still
better than the other group's best seed (their ranges do not overlap); otherwise the gap is
"within seed noise". With one seed on each side nothing is known about the noise, and the
sentence says so. A seed that never got there counts as later than every seed that did. Runs
that repeat a seed are counted as runs, not seeds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def counted(count: int, unit: str = "seed") -> str:
    """ "1 seed", "3 seeds"; the unit is "run" where runs repeat a seed (groups.unit_of)."""
    return f"{count} {unit}" + ("" if count == 1 else "s")


def over(count: int, unit: str = "seed") -> str:
    """How a value over `count` runs reads after the value: "1 seed", "mean of 3 seeds"."""
    return counted(count, unit) if count == 1 else f"mean of {counted(count, unit)}"


def counts_of(named: Sequence[tuple[str, int, str]]) -> str:
    """ "1 seed each", or "2 seeds of Inception-v3, 1 of Inception-ResNet-v1" from
    (name, count, unit) triples."""
    if len({(count, unit) for _, count, unit in named}) == 1:
        _, count, unit = named[0]
        return f"{counted(count, unit)} each"
    (name, count, unit), *rest = named
    parts = [f"{counted(count, unit)} of {name}"]
    parts += [f"{n if u == unit else counted(n, u)} of {other}" for other, n, u in rest]
    return ", ".join(parts)


def latest(values: Sequence[float | None]) -> float:
    return max(math.inf if value is None else value for value in values)


def earliest(values: Sequence[float | None]) -> float:
    return min(math.inf if value is None else value for value in values)


def verdict(
    ahead: Sequence[float | None], behind: Sequence[float | None], better: str, unit: str = "seed"
) -> str:
    """`ahead` has the lower mean (an epoch or an error); `better` is "faster" or "lower"."""
    noise = "seed noise" if unit == "seed" else "run-to-run noise"
    if len(ahead) <= 1 and len(behind) <= 1:
        return f"{noise} unknown"
    if latest(ahead) < earliest(behind):
        return f"{better} on every {unit}"
    return f"within {noise}"
