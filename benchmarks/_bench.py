"""Shared helpers of the benchmark scripts: timing, percentiles, result tables, subprocesses.

Not a benchmark itself. The scripts run as `python benchmarks/<name>.py`, so this directory is
on `sys.path` and they import it as `_bench`.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_projects" / "jaffle_shop"
SRC = REPO / "src"


def timings(
    fn: Callable[[], object], iterations: int, warmup: int = 20, *, collect: bool = True
) -> list[float]:
    """Seconds per call of `fn`, after `warmup` untimed calls.

    `collect=True` keeps Python's cyclic GC on, as in a real process (sqlglot nodes point at
    their parents, so every tree is a cycle only the GC frees); False switches it off while
    timing, to show how much of the time is collection.
    """
    for _ in range(warmup):
        fn()
    gc.collect()
    was_enabled = gc.isenabled()
    if not collect:
        gc.disable()
    out = []
    clock = time.perf_counter
    try:
        for _ in range(iterations):
            start = clock()
            fn()
            out.append(clock() - start)
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()
    return out


def interleaved(fns: Sequence[Callable[[], object]], rounds: int) -> list[list[float]]:
    """Seconds per call of each of `fns`, run in turn each round so drift hits all alike.

    Odd rounds run them in reverse order, so none always runs first (or right after another).
    """
    out: list[list[float]] = [[] for _ in fns]
    for r in range(rounds):
        order = range(len(fns)) if r % 2 == 0 else reversed(range(len(fns)))
        for i in order:
            start = time.perf_counter()
            fns[i]()
            out[i].append(time.perf_counter() - start)
    return out


def p95(values: Sequence[float]) -> float:
    """95th percentile, nearest rank (the largest value for fewer than 20 samples)."""
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


def median(values: Sequence[float]) -> float:
    """Median."""
    return statistics.median(values)


@dataclass(frozen=True)
class Row:
    """One line of a result table; values are already in `unit`; no target means no verdict."""

    name: str
    median: float | None
    p95: float | None
    unit: str
    target: float | None = None
    note: str = ""
    error: str | None = None
    verdict: str | None = None  # overrides PASS/MISS, e.g. "WRONG RESULT"

    @property
    def ratio(self) -> float | None:
        """Median ÷ target (≤ 1 meets the target)."""
        if self.target is None or self.median is None or self.error:
            return None
        return self.median / self.target

    @property
    def status(self) -> str:
        """PASS, MISS, ERROR, or '-' without a target (or `verdict` when set)."""
        if self.verdict:
            return self.verdict
        if self.error:
            return "ERROR"
        ratio = self.ratio
        if ratio is None:
            return "-"
        return "PASS" if ratio <= 1.0 else "MISS"


def _num(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    elif abs(value) >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".rstrip()


def print_table(title: str, rows: Sequence[Row]) -> None:
    """Print `rows` as a fixed-width table: name, median, p95, target, ratio, verdict, note."""
    head = ("name", "median", "p95", "target", "ratio", "result", "note")
    cells = [
        (
            r.name,
            _num(r.median, r.unit),
            _num(r.p95, r.unit),
            _num(r.target, r.unit),
            "-" if r.ratio is None else f"{r.ratio:.2f}",
            r.status,
            r.error or r.note,
        )
        for r in rows
    ]
    widths = [max(len(str(c[i])) for c in [head, *cells]) for i in range(len(head) - 1)]
    print(f"\n## {title}")
    for line in [head, *cells]:
        left = [str(line[0]).ljust(widths[0])]
        left += [str(v).rjust(w) for v, w in zip(line[1:-1], widths[1:], strict=True)]
        print("  ".join(left) + ("  " + line[-1] if line[-1] else ""))
    sys.stdout.flush()


def machine() -> str:
    """One line describing the interpreter, the libraries and the machine."""
    versions = []
    for name in ("sqlglot", "duckdb", "pydantic", "yaml"):
        try:
            module = __import__(name)
            versions.append(f"{name} {getattr(module, '__version__', '?')}")
        except ImportError:
            versions.append(f"{name} missing")
    cpus = os.cpu_count()
    return (
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{', '.join(versions)}, {cpus} CPUs, {platform.system()} {platform.machine()}"
    )


def run_child(code: str, *, cwd: Path | None = None, timeout: float = 1800) -> dict[str, float]:
    """Run `code` in a fresh interpreter; it must print one JSON object as its last line.

    Adds `wall_s` (whole subprocess, interpreter start included) and `peak_rss_mib` (the
    child's own RUSAGE_SELF maximum resident set, which it reports as `maxrss_kib`).
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    lines = proc.stdout.strip().splitlines()
    result: dict[str, float] = json.loads(lines[-1])
    result["wall_s"] = wall
    if "maxrss_kib" in result:
        result["peak_rss_mib"] = result["maxrss_kib"] / 1024
    if len(lines) > 1:
        result["_stdout"] = "\n".join(lines[:-1])  # type: ignore[assignment]
    return result


def uncached(project: Any) -> Any:
    """A twin of `project` whose compile cache is off, so every `compile` is a fresh compile.

    Goes through `Project.compile` (cache key included) rather than the compiler internals.
    Projects from before the cache existed are returned as they are.
    """
    import inspect

    import metricql as mq

    if "cache_size" not in inspect.signature(mq.Project).parameters:
        return project
    return mq.Project(project._schema, project.explores, cache_size=0)


# Appended to child code: report peak RSS of the child itself (KiB on Linux).
CHILD_RSS = "import resource as _r; _rss = _r.getrusage(_r.RUSAGE_SELF).ru_maxrss"
