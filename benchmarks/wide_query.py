"""Compile latency of wide queries over a synthetic 10-table star explore (issue 7).

Run: python benchmarks/wide_query.py [--iterations N] [--curve 10,50,100,200]
                                      [--metrics-on all|fact] [--keep DIR]

Writes a dbt project into a temp dir: one fact table `w_fact` joined many-to-one to nine
dimension tables `w_dim1`..`w_dim9`. Every table has 30 columns: a key, a date (time
intervals), 14 strings and 14 numbers; each number has a sum and an average metric. A query of
n fields selects round(n/3) dimensions and the rest metrics, taken round-robin over the ten
tables, so every query joins all ten. Prints the curve (per-field time, log-log slope between
points, and a least-squares growth exponent over all points: 1.0 is linear, target ≤ 1), each
also with Python's cyclic GC off, and the 100 metrics × 50 dimensions case (target 100 ms).
Compiles are fresh: the project's compile cache is switched off.
With `--metrics-on all` (default) the dimension tables' metrics are repeated by the
many-to-one joins and metricql computes them at their own grain (fan-out CTEs); `fact` keeps
the metrics on the fact table only.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

from _bench import Row, machine, median, p95, print_table, timings, uncached

import metricql as mq

TABLES = ["w_fact", *(f"w_dim{i}" for i in range(1, 10))]
STRINGS = 14
NUMBERS = 14
TARGET_WIDE_MS = 100.0


def _model_yaml(table: str, with_metrics: bool) -> str:
    key = f"{table}_id"
    lines = [
        f"  - name: {table}",
        "    meta:",
        f"      primary_key: {key}",
    ]
    if table == "w_fact":
        lines.append("      joins:")
        for dim in TABLES[1:]:
            lines += [
                f"        - join: {dim}",
                f"          sql_on: ${{w_fact.{dim}_id}} = ${{{dim}.{dim}_id}}",
                "          relationship: many-to-one",
            ]
    lines += [
        "    columns:",
        f"      - name: {key}",
        "        meta:",
        "          dimension: {type: number}",
        "          metrics:",
        f"            {table}_count: {{type: count_distinct}}",
        "      - name: created_date",
        "        meta:",
        "          dimension: {type: date, time_intervals: [DAY, WEEK, MONTH, YEAR]}",
    ]
    if table == "w_fact":  # foreign keys (hidden: they are join plumbing)
        for dim in TABLES[1:]:
            lines += [
                f"      - name: {dim}_id",
                "        meta:",
                "          dimension: {type: number, hidden: true}",
            ]
    for i in range(STRINGS):
        lines += [f"      - name: s{i:02d}", "        meta:", "          dimension: {type: string}"]
    for i in range(NUMBERS):
        lines += [f"      - name: n{i:02d}", "        meta:", "          dimension: {type: number}"]
        if with_metrics:
            lines += [
                "          metrics:",
                f"            n{i:02d}_sum: {{type: sum}}",
                f"            n{i:02d}_avg: {{type: average}}",
            ]
    return "\n".join(lines)


def write_project(root: Path, metrics_on: str) -> Path:
    """Write the synthetic star project under `root`; returns the project dir."""
    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text(
        "name: wide\nversion: '1.0'\nconfig-version: 2\nprofile: wide\nmodel-paths: [models]\n"
    )
    (root / "profiles.yml").write_text(
        "wide:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        "      path: ':memory:'\n      schema: main\n"
    )
    for table in TABLES:
        body = _model_yaml(table, with_metrics=metrics_on == "all" or table == "w_fact")
        (root / "models" / f"{table}.yml").write_text(f"version: 2\nmodels:\n{body}\n")
    return root


def _round_robin(per_table: list[list[str]], count: int) -> list[str]:
    picked: list[str] = []
    depth = 0
    while len(picked) < count:
        row = [ids[depth] for ids in per_table if depth < len(ids)]
        if not row:
            raise SystemExit(f"the synthetic explore has fewer than {count} such fields")
        picked += row[: count - len(picked)]
        depth += 1
    return picked


def wide_query(explore: mq.Explore, dimensions: int, metrics: int) -> mq.MetricQuery:
    """`dimensions` + `metrics` fields spread round-robin over the explore's tables."""
    dims: list[list[str]] = [[] for _ in TABLES]
    mets: list[list[str]] = [[] for _ in TABLES]
    for field_id, dim in explore.dimensions.items():
        if not dim.hidden and dim.table in TABLES and not field_id.endswith("_id"):
            dims[TABLES.index(dim.table)].append(field_id)
    for field_id, metric in explore.metrics.items():
        if metric.table in TABLES and not field_id.endswith("_count"):
            mets[TABLES.index(metric.table)].append(field_id)
    dim_ids = _round_robin([d for d in dims if d], dimensions)
    metric_ids = _round_robin([m for m in mets if m], metrics)
    return mq.MetricQuery(
        explore_name="w_fact",
        dimensions=tuple(dim_ids),
        metrics=tuple(metric_ids),
        sorts=({"field_id": metric_ids[0], "descending": True},),
        limit=500,
    )


def loglog_slope(xs: list[int], ys: list[float]) -> float:
    """Least-squares slope of log(y) on log(x): the exponent k of y ~ x**k."""
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sum(
        (a - mx) ** 2 for a in lx
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=30, help="timed compiles per point")
    parser.add_argument("--curve", default="10,50,100,200", help="selected-field counts")
    parser.add_argument("--metrics-on", choices=("all", "fact"), default="all")
    parser.add_argument("--keep", type=Path, help="write the project here and keep it")
    args = parser.parse_args()
    print(machine())

    with tempfile.TemporaryDirectory(prefix="metricql-wide-") as tmp:
        root = write_project(args.keep or Path(tmp), args.metrics_on)
        project = uncached(mq.load_project(root))  # fresh compiles: no compile cache
    explore = project.explore("w_fact")
    print(
        f"explore w_fact: {len(TABLES)} tables, {len(explore.dimensions)} dimensions, "
        f"{len(explore.metrics)} metrics (metrics on: {args.metrics_on})"
    )

    rows: list[Row] = []
    points: list[tuple[int, float, float]] = []  # (fields, median GC on, median GC off)
    for n in (int(x) for x in args.curve.split(",")):
        dims = round(n / 3)
        query = wide_query(explore, dims, n - dims)
        compile_ = lambda q=query: project.compile(q, dialect="duckdb")  # noqa: E731
        values = timings(compile_, args.iterations, 3)
        no_gc = median(timings(compile_, args.iterations, 1, collect=False))
        med = median(values)
        slope = ""
        if points:
            n0, t0, _ = points[-1]
            slope = f", slope vs {n0}: {math.log(med / t0) / math.log(n / n0):.2f}"
        points.append((n, med, no_gc))
        note = (
            f"{dims} dims + {n - dims} metrics, {med / n * 1e6:.0f} µs/field{slope}; "
            f"GC off: {no_gc * 1e3:.1f} ms"
        )
        rows.append(Row(f"{n} fields", med * 1e3, p95(values) * 1e3, "ms", note=note))
    if len(points) >= 2:
        fields = [n for n, _, _ in points]
        rows.append(
            Row(
                "growth exponent (log-log fit)",
                loglog_slope(fields, [t for _, t, _ in points]),
                None,
                "",
                1.0,
                note=f"1 = linear; GC off: {loglog_slope(fields, [t for _, _, t in points]):.2f}",
            )
        )
    print_table("wide query curve, duckdb", rows)

    query = wide_query(explore, 50, 100)
    values = timings(lambda: project.compile(query, dialect="duckdb"), args.iterations, 3)
    no_gc = timings(
        lambda: project.compile(query, dialect="duckdb"), args.iterations, 1, collect=False
    )
    compiled = project.compile(query, dialect="duckdb")
    render = timings(lambda: compiled.tree.sql(dialect="duckdb"), args.iterations, 3)
    note = (
        f"render {median(render) * 1e3:.1f} ms, compile÷render "
        f"{median(values) / median(render):.2f}, SQL {len(compiled.sql) // 1024} KiB, "
        f"{compiled.sql.count('fanout_')} fan-out CTE refs; GC off: {median(no_gc) * 1e3:.1f} ms"
    )
    print_table(
        "100 metrics × 50 dimensions, 10-table explore, duckdb",
        [
            Row(
                "100 metrics × 50 dims",
                median(values) * 1e3,
                p95(values) * 1e3,
                "ms",
                TARGET_WIDE_MS,
                note,
            )
        ],
    )


if __name__ == "__main__":
    main()
