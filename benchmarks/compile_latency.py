"""Compile latency of the sample queries, and the time to load the sample project.

Run: python benchmarks/compile_latency.py [--iterations N] [--dialect D]
Prints, per query, the median and p95 of a warm in-process compile, and the ratio of compile
time to rendering the finished tree (`tree.sql(dialect)`, the floor of this design).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import metricql as mq

SAMPLE = Path(__file__).resolve().parent.parent / "sample_projects" / "jaffle_shop"


def _timings(fn: Callable[[], object], iterations: int) -> list[float]:
    for _ in range(min(20, iterations)):  # warm caches and the interpreter
        fn()
    out = []
    for _ in range(iterations):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--dialect", default="duckdb")
    args = parser.parse_args()

    loads = _timings(lambda: mq.load_project(SAMPLE), 20)
    print(
        f"load sample project: median {statistics.median(loads) * 1e3:.2f} ms, "
        f"p95 {_p95(loads) * 1e3:.2f} ms (20 runs)"
    )

    project = mq.load_project(SAMPLE)
    print(f"\ncompile, dialect={args.dialect}, {args.iterations} warm iterations each")
    print(f"{'query':<22} {'median ms':>10} {'p95 ms':>8} {'render ms':>10} {'ratio':>6}")
    for path in sorted((SAMPLE / "queries").glob("*.json")):
        query = mq.MetricQuery.model_validate(json.loads(path.read_text()))
        compiled = project.compile(query, dialect=args.dialect)
        compile_t = _timings(
            lambda q=query: project.compile(q, dialect=args.dialect), args.iterations
        )
        render_t = _timings(lambda c=compiled: c.tree.sql(dialect=args.dialect), args.iterations)
        median, render = statistics.median(compile_t), statistics.median(render_t)
        print(
            f"{path.stem:<22} {median * 1e3:>10.3f} {_p95(compile_t) * 1e3:>8.3f} "
            f"{render * 1e3:>10.3f} {median / render:>6.2f}"
        )


if __name__ == "__main__":
    main()
