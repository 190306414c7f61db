"""Time compiling one query on a project: what `metricql bench` reports (no printing here)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from metricql.api import Project, load_project
from metricql.compiler.compile import compile_query
from metricql.compiler.options import CompileOptions
from metricql.query.model import MetricQuery


@dataclass(frozen=True, slots=True)
class Timing:
    """Median and 95th percentile of repeated runs, in seconds."""

    name: str
    median: float
    p95: float
    runs: int


def timings(fn: Callable[[], object], runs: int, name: str) -> Timing:
    """Run `fn` a few times to warm up, then `runs` times; median and p95."""
    for _ in range(min(10, runs)):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    samples.sort()
    return Timing(name, statistics.median(samples), samples[max(0, int(runs * 0.95) - 1)], runs)


def bench_compile(
    path: str | Path,
    query: MetricQuery,
    *,
    dialect: str | None = None,
    runs: int = 500,
    target: str | None = None,
) -> tuple[Project, list[Timing]]:
    """Project load, fresh compile, cached compile and SQL rendering times for `query`."""
    start = time.perf_counter()
    project = load_project(path, target=target)
    load = time.perf_counter() - start
    explore = project.explore(query.explore_name)
    dialect = dialect or project.dialect
    compiled = project.compile(query, dialect=dialect)
    options = CompileOptions(dialect=dialect)
    results = [
        Timing("load project (once, warm imports)", load, load, 1),
        timings(lambda: compile_query(explore, query, options), runs, "compile (fresh)"),
        timings(lambda: project.compile(query, dialect=dialect), runs, "compile (cached)"),
        timings(lambda: compiled.tree.sql(dialect=dialect), runs, "render tree.sql()"),
    ]
    return project, results
