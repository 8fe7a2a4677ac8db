"""Progress of an evaluation: a rich bar on a terminal; on a log file or a pipe (nohup, SLURM),
one line every 10 s and at the end, e.g.

    eval: 1200/50000 images, 85.3 images/s, ETA 9m32s

Both count the images of the whole evaluation. With several processes, the first one reports
and counts its own images times the number of processes (they get equal shares). Rich decides
what a terminal is; TTY_COMPATIBLE=1 or FORCE_COLOR=1 makes it draw the bar anyway.
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

LOG_INTERVAL_S = 10.0


def format_duration(seconds: float) -> str:
    """9m32s, 1h05m, 12s."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{seconds:02d}s"
    return f"{seconds}s"


class EvalProgress:
    """Counts images as batches finish and shows how far along the evaluation is.

    `done_before`: images taken from partial results; `scale`: processes sharing the work."""

    def __init__(
        self, console: Console, total: int, *, done_before: int = 0, scale: int = 1
    ) -> None:
        self.console = console
        self.total = total
        self.done_before = done_before
        self.scale = scale
        self.computed = 0
        self.start = time.perf_counter()
        self.last_line = -LOG_INTERVAL_S
        self.bar: Progress | None = None
        self.task = TaskID(0)

    def __enter__(self) -> EvalProgress:
        self.start = time.perf_counter()
        if self.console.is_terminal and not self.console.quiet:
            self.bar = Progress(
                TextColumn("evaluating"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("images, {task.fields[rate]}, {task.fields[eta]}"),
                console=self.console,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(
                "eval", total=self.total, completed=self.done_before, rate="", eta=""
            )
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.bar is not None:
            self.bar.stop()

    @property
    def done(self) -> int:
        return min(self.total, self.done_before + self.computed * self.scale)

    @property
    def rate(self) -> float:
        elapsed = time.perf_counter() - self.start
        return self.computed * self.scale / elapsed if elapsed > 0 else 0.0

    def eta(self) -> str:
        rate = self.rate
        return "ETA " + (format_duration((self.total - self.done) / rate) if rate else "?")

    def advance(self, images: int) -> None:
        self.computed += images
        if self.bar is not None:
            rate = f"{self.rate:.1f} images/s"
            self.bar.update(self.task, completed=self.done, rate=rate, eta=self.eta())
        elif time.perf_counter() - self.last_line >= LOG_INTERVAL_S:
            self.line(self.eta())

    def line(self, tail: str) -> None:
        self.last_line = time.perf_counter()
        text = f"eval: {self.done}/{self.total} images, {self.rate:.1f} images/s, {tail}"
        self.console.print(escape(text), highlight=False, soft_wrap=True)

    def finish(self, images: int, wall_s: float) -> None:
        """The last line, with the figures of all processes."""
        if self.bar is None:
            rate = images / wall_s if wall_s > 0 else 0.0
            text = f"eval: {self.total}/{self.total} images, {rate:.1f} images/s, done in "
            self.console.print(
                escape(text + format_duration(wall_s)), highlight=False, soft_wrap=True
            )
