"""How a value travels through the tool's own code, call by call: the composed config through
`inception train` (from `train(cfg, run_dir)` until Lightning's fit starts) and the arguments
of `inception eval` (from `run_eval` to the result), on a tiny network, on this CPU.

    python benchmarks/call_paths.py [--workdir DIR]

For each path it prints the functions of inception_cli entered, the files they are in, how
often the path moves to another file, how often it returns to a file it had already left, and
how often it climbs back (calls into a part of the package that imports the caller's part, so
stands above it). Calls made by Lightning, torch or Hydra into our code (callbacks during fit)
are not followed, nor the module code an import runs: the path is our code calling our code.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

PACKAGE = "inception_cli"


def part_imports(root: Path) -> dict[str, set[str]]:
    """Which top-level parts of the package each part imports (inside functions too)."""
    imports: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        part = part_of(path, root)
        found = imports.setdefault(part, set())
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == PACKAGE and len(parts) > 1:
                    target = parts[1] if (root / parts[1]).is_dir() else parts[1] + ".py"
                    if (root / target).exists() and target.removesuffix(".py") != part:
                        found.add(target.removesuffix(".py"))
    return imports


def part_of(path: Path, root: Path) -> str:
    return path.relative_to(root).parts[0].removesuffix(".py")


def above(imports: dict[str, set[str]]) -> Callable[[str, str], bool]:
    """above(a, b): part a imports part b, directly or not."""
    reach: dict[str, set[str]] = {}

    def below(part: str, seen: frozenset[str] = frozenset()) -> set[str]:
        if part not in reach:
            out: set[str] = set()
            for child in imports.get(part, ()):
                if child not in seen:
                    out |= {child} | below(child, seen | {part})
            reach[part] = out
        return reach[part]

    return lambda a, b: b in below(a)


def trace(work: Callable[[], Any], root: Path) -> list[tuple[str, str]]:
    """(caller file, callee function) for every call from our code into our code."""
    calls: list[tuple[str, str]] = []
    prefix = str(root)

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event != "call":
            return
        callee = frame.f_code.co_filename
        back = frame.f_back.f_code if frame.f_back else None
        caller = f"{back.co_filename}:{back.co_name}" if back else ""
        importing = "<module>" in (frame.f_code.co_name, back.co_name if back else "")
        if importing:  # an import runs module code: no value travels
            return
        if callee.startswith(prefix) and (caller.startswith(prefix) or not calls):
            calls.append((caller, f"{callee}:{frame.f_code.co_name}"))

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return calls


def summarise(name: str, calls: list[tuple[str, str]], root: Path) -> None:
    """Each call from one function to another counts once, where it first happens: a loop over
    batches is one path, not one per batch."""
    is_above = above(part_imports(root))
    files: list[str] = []
    climbs = 0
    for caller, callee in dict.fromkeys(calls):
        callee_file = callee.rpartition(":")[0]
        if caller.startswith(str(root)):
            low = part_of(Path(caller.rpartition(":")[0]), root)
            high = part_of(Path(callee_file), root)
            climbs += low != high and is_above(high, low)
        if not files or files[-1] != callee_file:
            files.append(callee_file)
    returns = sum(1 for i, f in enumerate(files) if f in files[: i - 1])
    places = len({callee for _, callee in calls})
    print(
        f"{name}: {places} functions in {len(set(files))} files; {len(files) - 1} moves between "
        f"files, {returns} returns to a file already left, {climbs} climbs to a higher part"
    )


def train_path(workdir: Path, root: Path) -> None:
    import lightning.pytorch as pl

    from inception_cli.training import loop

    compose = compose_function()
    cfg = compose(["debug=tiny", "logger=csv", f"paths.runs_dir={workdir}"])
    run_dir = workdir / "traced"
    run_dir.mkdir(parents=True)
    fit = pl.Trainer.fit
    pl.Trainer.fit = lambda *args, **kwargs: None  # type: ignore[method-assign]
    try:
        calls = trace(lambda: loop.train(cfg, run_dir), root)
    finally:
        pl.Trainer.fit = fit  # type: ignore[method-assign]
    summarise("train: the config, train(cfg, run_dir) to fit", calls, root)


def compose_function() -> Callable[[list[str]], Any]:
    try:
        from inception_cli.config.compose import compose_train_config
    except ImportError:  # the layout before config/ was a package
        from inception_cli.config import compose_train_config  # type: ignore[no-redef]
    return compose_train_config


def eval_path(workdir: Path, root: Path) -> None:
    from inception_cli.tasks.evaluate import run_eval

    subprocess.run(
        ["inception", "train", "debug=tiny", f"paths.runs_dir={workdir}/eval_runs"],
        check=True,
        capture_output=True,
    )
    run = next((workdir / "eval_runs").iterdir())
    output = workdir / "result.json"
    calls = trace(lambda: run_eval([str(run)], crops=1, output=output), root)
    summarise("eval: the arguments, run_eval to the result", calls, root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    import inception_cli

    root = Path(inception_cli.__file__).resolve().parent
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="call_paths_"))
    print(f"package: {root}")
    train_path(workdir, root)
    eval_path(workdir, root)


if __name__ == "__main__":
    main()
