"""Compile latency over the sample project (issue 7): typical queries, dialects, repeats.

Run: python benchmarks/compile_latency.py [--iterations N] [--dialects d1,d2] [--profile]

Every compile is fresh (a twin of the project with its compile cache off, still through
`Project.compile`) except the repeat rows. Prints, for a warm process:
- the "typical" query (3 dimensions incl. a time interval, 3 metrics across 2 joins, 4 filters
  in a nested group, 2 sorts, limit) and "typical+" (plus a table calculation and a custom bin)
  against their targets (1.5 ms, 3 ms);
- compile ÷ render (`compiled.tree.sql(dialect)`, the floor of this design), target ≤ 1.5, for
  those two and every query in sample_projects/jaffle_shop/queries;
- the typical queries in every supported dialect, target ≤ 1.5 × the DuckDB median;
- repeat compiles of one identical query through the project's bounded compile cache (target
  ≤ 50 µs): the same query object, and equal copies (hashed afresh each time);
- the time to load the sample project (no target).
`--profile` adds a cProfile of compiling the typical query 1000 times (top 15 by own time,
then by cumulative time).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
from collections.abc import Callable, Mapping
from typing import Any

from _bench import SAMPLE, Row, machine, median, p95, print_table, timings, uncached

import metricql as mq
from metricql.dialects import SUPPORTED

DIALECTS = SUPPORTED

TYPICAL: Mapping[str, Any] = {
    "exploreName": "orders",
    "dimensions": ["orders_order_date_month", "orders_status", "customers_country"],
    "metrics": ["orders_total_revenue", "orders_average_order_value", "payments_total_amount"],
    "filters": {
        "dimensions": {
            "id": "root",
            "and": [
                {
                    "id": "status",
                    "target": {"fieldId": "orders_status"},
                    "operator": "notEquals",
                    "values": ["placed", "return_pending"],
                },
                {
                    "id": "period",
                    "target": {"fieldId": "orders_order_date"},
                    "operator": "inBetween",
                    "values": ["2023-06-01", "2025-06-30"],
                },
                {
                    "id": "country-or-big",
                    "or": [
                        {
                            "id": "country",
                            "target": {"fieldId": "customers_country"},
                            "operator": "equals",
                            "values": ["Germany", "France", "Japan"],
                        },
                        {
                            "id": "big",
                            "target": {"fieldId": "orders_amount"},
                            "operator": "greaterThan",
                            "values": [50],
                        },
                    ],
                },
            ],
        }
    },
    "sorts": [
        {"fieldId": "orders_order_date_month", "descending": True},
        {"fieldId": "orders_total_revenue", "descending": True},
    ],
    "limit": 500,
}

TYPICAL_PLUS: Mapping[str, Any] = {
    **TYPICAL,
    "dimensions": [*TYPICAL["dimensions"], "amount_bin"],
    "customDimensions": [
        {
            "id": "amount_bin",
            "name": "Amount bin",
            "table": "orders",
            "type": "bin",
            "dimensionId": "orders_amount",
            "binType": "fixed_width",
            "binWidth": 25,
        }
    ],
    "tableCalculations": [
        {
            "name": "revenue_share",
            "displayName": "Revenue share",
            "sql": "${orders.total_revenue} / SUM(${orders.total_revenue}) OVER ()",
        }
    ],
}

# Same shape as TYPICAL, but the third metric sits on the "one" side of a many-to-one join
# (count_distinct cannot be inflated), so no fan-out CTEs: shows what fan-out costs.
TYPICAL_NO_FANOUT: Mapping[str, Any] = {
    **TYPICAL,
    "metrics": ["orders_total_revenue", "orders_average_order_value", "customers_customer_count"],
    "dimensions": ["orders_order_date_month", "orders_status", "referrer_country"],
}

TARGET_TYPICAL_MS = 1.5
TARGET_TYPICAL_PLUS_MS = 3.0
TARGET_DIALECT_FACTOR = 1.5
TARGET_COMPILE_RENDER = 1.5
TARGET_REPEAT_US = 50.0
TARGET_SHAPE_US = 100.0  # issue 12: same shape, new filter values


def _with_values(body: Mapping[str, Any], i: int) -> mq.MetricQuery:
    """`body` (a typical query) with filter values of its own: same shape, new values."""
    out = json.loads(json.dumps(body))
    rules = out["filters"]["dimensions"]["and"]
    rules[0]["values"] = [f"placed-{i}", f"it's {i}"]
    rules[1]["values"] = [f"2023-{i % 12 + 1:02d}-{i % 28 + 1:02d}", "2025-06-30"]
    rules[2]["or"][0]["values"] = ["Germany", f"Fr%_{i}", "Japan"]
    rules[2]["or"][1]["values"] = [50 + i]
    return mq.MetricQuery.model_validate(out)


def _check_fields(project: mq.Project, body: Mapping[str, Any]) -> None:
    """Fail early, with a clear message, if the sample project renamed a field we use."""
    explore = project.explore(body["exploreName"])
    custom = {c["id"] for c in body.get("customDimensions", [])}
    missing = [d for d in body["dimensions"] if d not in explore.dimensions and d not in custom]
    missing += [m for m in body["metrics"] if m not in explore.metrics]
    if missing:
        raise SystemExit(f"sample project lacks fields used by the benchmark: {missing}")


def _series(fn: Callable[[], object], iterations: int) -> tuple[float, float]:
    values = timings(fn, iterations)
    return median(values), p95(values)


def _typical_rows(
    project: mq.Project, queries: Mapping[str, mq.MetricQuery], iterations: int
) -> list[Row]:
    targets = {"typical": TARGET_TYPICAL_MS, "typical+calc+bin": TARGET_TYPICAL_PLUS_MS}
    rows = []
    for name, query in queries.items():
        med, high = _series(lambda q=query: project.compile(q, dialect="duckdb"), iterations)
        warnings = project.compile(query, dialect="duckdb").warnings
        note = f"warnings: {len(warnings)}" if warnings else ""
        rows.append(Row(name, med * 1e3, high * 1e3, "ms", targets.get(name), note))
    return rows


def _compile_render_rows(
    project: mq.Project, queries: Mapping[str, mq.MetricQuery], iterations: int
) -> list[Row]:
    rows = []
    for name, query in queries.items():
        try:
            compiled = project.compile(query, dialect="duckdb")
        except mq.MetricQLError as err:
            rows.append(Row(name, None, None, "x", TARGET_COMPILE_RENDER, error=str(err)[:60]))
            continue
        comp, _ = _series(lambda q=query: project.compile(q, dialect="duckdb"), iterations)
        rend, _ = _series(lambda c=compiled: c.tree.sql(dialect="duckdb"), iterations)
        note = f"compile {comp * 1e3:.3f} ms, render {rend * 1e3:.3f} ms"
        rows.append(Row(name, comp / rend, None, "x", TARGET_COMPILE_RENDER, note))
    return rows


def _dialect_rows(
    project: mq.Project, name: str, query: mq.MetricQuery, dialects: list[str], iterations: int
) -> list[Row]:
    rows: list[Row] = []
    base: float | None = None
    for dialect in dialects:
        label = f"{name} @ {dialect}"
        try:
            compiled = project.compile(query, dialect=dialect)
        except mq.MetricQLError as err:
            rows.append(Row(label, None, None, "ms", error=f"{type(err).__name__}: {err}"[:80]))
            continue
        med, high = _series(lambda d=dialect: project.compile(query, dialect=d), iterations)
        rend, _ = _series(lambda c=compiled, d=dialect: c.tree.sql(dialect=d), iterations)
        if base is None and dialect == "duckdb":
            base = med
        target = base * TARGET_DIALECT_FACTOR * 1e3 if base is not None else None
        vs_duck = f"÷duckdb {med / base:.2f}, " if base else ""
        note = f"{vs_duck}render {rend * 1e3:.3f} ms, compile÷render {med / rend:.2f}"
        rows.append(Row(label, med * 1e3, high * 1e3, "ms", target, note))
    return rows


def _repeat_rows(project: mq.Project, query: mq.MetricQuery, iterations: int) -> list[Row]:
    """The same query again and again: what a bounded compile cache would serve."""
    same, same_p95 = _series(lambda: project.compile(query, dialect="duckdb"), iterations)
    copies = [query.model_copy(deep=True) for _ in range(iterations + 20)]
    it = iter(copies)
    equal, equal_p95 = _series(lambda: project.compile(next(it), dialect="duckdb"), iterations)
    return [
        Row("repeat: same object", same * 1e6, same_p95 * 1e6, "µs", TARGET_REPEAT_US),
        Row("repeat: equal copy", equal * 1e6, equal_p95 * 1e6, "µs", TARGET_REPEAT_US),
    ]


def _shape_rows(
    project: mq.Project, bodies: Mapping[str, Mapping[str, Any]], iterations: int
) -> list[Row]:
    """Each compile a query not seen before, differing from earlier ones only in values."""
    rows = []
    for name, body in bodies.items():
        queries = iter([_with_values(body, i) for i in range(iterations + 30)])
        for _ in range(3):  # seen, templated, served
            project.compile(next(queries), dialect="duckdb")
        med, high = _series(lambda q=queries: project.compile(next(q), dialect="duckdb"),
                            iterations)  # fmt: skip
        note = "shape cache: values re-rendered into the shape's SQL, no planning"
        rows.append(Row(f"{name}: new filter values", med * 1e6, high * 1e6, "µs",
                        TARGET_SHAPE_US, note))  # fmt: skip
    return rows


def _profile(project: mq.Project, query: mq.MetricQuery, count: int = 1000) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        project.compile(query, dialect="duckdb")
    profiler.disable()
    out = io.StringIO()
    for order in ("tottime", "cumulative"):
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(15)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=300, help="timed runs per series")
    parser.add_argument("--dialects", default=",".join(DIALECTS), help="comma-separated")
    parser.add_argument("--skip-samples", action="store_true", help="skip queries/*.json")
    parser.add_argument("--profile", action="store_true", help="cProfile 1000 typical compiles")
    args = parser.parse_args()
    dialects = [d.strip() for d in args.dialects.split(",") if d.strip()]
    if "duckdb" in dialects:  # the baseline first
        dialects.remove("duckdb")
        dialects.insert(0, "duckdb")
    print(machine())

    load = timings(lambda: mq.load_project(SAMPLE), 20, warmup=2)
    cached = mq.load_project(SAMPLE)
    project = uncached(cached)  # every compile below is fresh, except the repeat rows
    if project is cached:
        print("note: this metricql has no compile cache; repeat rows are fresh compiles")
    bodies = {
        "typical": TYPICAL,
        "typical+calc+bin": TYPICAL_PLUS,
        "typical, no fan-out": TYPICAL_NO_FANOUT,
    }
    for body in bodies.values():
        _check_fields(project, body)
    typical = {n: mq.MetricQuery.model_validate(b) for n, b in bodies.items()}

    print_table(
        "load sample project (warm, in-process)",
        [Row("load_project(jaffle_shop)", median(load) * 1e3, p95(load) * 1e3, "ms")],
    )
    print_table(
        f"compile, duckdb, {args.iterations} warm iterations (fresh; repeat rows: cached)",
        _typical_rows(project, typical, args.iterations)
        + _repeat_rows(cached, typical["typical"], args.iterations)
        + _shape_rows(
            cached, {n: bodies[n] for n in ("typical", "typical+calc+bin")}, args.iterations
        ),
    )
    samples = dict(typical)
    if not args.skip_samples:
        for path in sorted((SAMPLE / "queries").glob("*.json")):
            samples[path.stem] = mq.MetricQuery.model_validate(json.loads(path.read_text()))
    print_table(
        "compile ÷ render (tree.sql), duckdb",
        _compile_render_rows(project, samples, args.iterations),
    )
    for name in ("typical", "typical+calc+bin"):
        print_table(
            f"{name} per dialect (target: {TARGET_DIALECT_FACTOR}× the duckdb median)",
            _dialect_rows(project, name, typical[name], dialects, args.iterations),
        )
    if args.profile:
        print("\n## cProfile: typical query compiled 1000 times (duckdb), top 15: tottime, cumtime")
        print(_profile(project, typical["typical"]))


if __name__ == "__main__":
    main()
