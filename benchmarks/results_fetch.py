"""Fetching large results: `project.run` against DuckDB's own Arrow fetch and DB-API fetchall
of the same SQL (issue 12).

Run: python benchmarks/results_fetch.py [--rows 1000000,10000000] [--rounds 5]

An in-memory DuckDB gets `orders` (order_id, order_date, status, amount; deterministic,
built with `range()`/`hash()`), a YAML project over it, and a dimensions-only query returning
one row per order. Side by side, interleaved, after one warm-up each:

- `project.run`: compile (cached) + execute + fetch, as a caller gets it
- DuckDB Arrow fetch: `cursor.sql(sql).to_arrow_table()` of metricql's SQL (the reference)
- DB-API fetchall: `cursor.execute(sql).fetchall()` of the same SQL (what `run` did before)
- `run` + `.rows`: the Python dict rows too (made lazily, on first access)
- `run` without pyarrow: the fetchall() path `run` takes when pyarrow is not installed
- `run(stream=True)` read through `batches()`: never the whole result in memory at once

and, on one result, `to_arrow()` (shares the fetched buffers) and `.rows` alone.
Targets: `project.run` ≤ 1.2 × DuckDB's Arrow fetch; `to_arrow()` ≤ 1 ms (free).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
from _bench import Row, interleaved, machine, median, p95, print_table, timings

import metricql as mq
from metricql.warehouse import duckdb as duck_warehouse

RUN_TARGET = 1.2  # × DuckDB's own Arrow fetch
TO_ARROW_TARGET_MS = 1.0

DATA_SQL = """
CREATE OR REPLACE TABLE orders AS
SELECT i AS order_id,
       DATE '2022-01-01' + (hash(i, 'date') % 1096)::INTEGER AS order_date,
       ['completed', 'shipped', 'returned', 'placed', 'return_pending']
           [1 + (hash(i, 'status') % 5)::BIGINT] AS status,
       CASE WHEN hash(i, 'null') % 50 = 0 THEN NULL
            ELSE ((hash(i, 'amount') % 20000)::BIGINT / 100.0)::DOUBLE END AS amount
FROM range(1, {rows} + 1) r(i);
"""
MODELS_YML = """version: 2
models:
  - name: orders
    meta: {primary_key: order_id}
    columns:
      - name: order_id
        meta: {dimension: {type: number}}
      - name: order_date
        meta: {dimension: {type: date, time_intervals: [DAY]}}
      - name: status
        meta: {dimension: {type: string}}
      - name: amount
        meta: {dimension: {type: number}}
"""
PROJECT_YML = "name: fetch_bench\nprofile: fetch_bench\nversion: '1'\nmodel-paths: [models]\n"
PROFILES_YML = (
    "fetch_bench:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: ':memory:', "
    "schema: main}\n"
)
QUERY = mq.MetricQuery(
    explore_name="orders",
    dimensions=["orders_order_id", "orders_order_date_day", "orders_status", "orders_amount"],
    limit=None,
)


def _project(folder: Path) -> mq.Project:
    (folder / "models").mkdir()
    (folder / "models" / "orders.yml").write_text(MODELS_YML)
    (folder / "dbt_project.yml").write_text(PROJECT_YML)
    (folder / "profiles.yml").write_text(PROFILES_YML)
    return mq.load_project(folder)


def _without_pyarrow(run: Callable[[], Any]) -> Callable[[], Any]:
    """`run` with DuckDB's fetch told pyarrow is missing: the fetchall() path."""

    def call() -> Any:
        real = duck_warehouse.has_pyarrow
        duck_warehouse.has_pyarrow = lambda: False
        try:
            return run()
        finally:
            duck_warehouse.has_pyarrow = real

    return call


def _measure(
    rows: int, rounds: int, connection: duckdb.DuckDBPyConnection, project: mq.Project
) -> None:
    connection.execute(DATA_SQL.format(rows=rows))
    sql = project.compile(QUERY).sql

    def duck_arrow() -> Any:
        with connection.cursor() as cursor:
            return cursor.sql(sql).to_arrow_table()

    def fetchall() -> Any:
        with connection.cursor() as cursor:
            return cursor.execute(sql).fetchall()

    def run() -> mq.QueryResult:
        return project.run(QUERY, connection=connection)

    def streamed() -> int:
        with project.run(QUERY, connection=connection, stream=True) as result:
            return sum(batch.num_rows for batch in result.batches())

    cases: dict[str, Callable[[], Any]] = {
        "project.run": run,
        "DuckDB Arrow fetch (reference)": duck_arrow,
        "DB-API fetchall": fetchall,
        "project.run + .rows": lambda: run().rows,
        "project.run, no pyarrow": _without_pyarrow(run),
        "project.run(stream) batches": streamed,
    }
    if rows > 2_000_000:  # tens of GB of Python objects otherwise; the 1M figures show it
        del cases["project.run + .rows"]
    assert run().num_rows == rows and len(duck_arrow()) == rows and streamed() == rows
    for fn in cases.values():
        fn()  # warm-up
    times = dict(zip(cases, interleaved(list(cases.values()), rounds), strict=True))
    reference = median(times["DuckDB Arrow fetch (reference)"])
    fastest = min(times["DuckDB Arrow fetch (reference)"])
    table = [
        Row(
            name,
            median(t),
            p95(t),
            "s",
            reference * RUN_TARGET if name == "project.run" else None,
            note=f"{median(t) / reference:.2f}× DuckDB Arrow (minima: {min(t) / fastest:.2f}×)",
        )
        for name, t in times.items()
    ]
    result = run()
    to_arrow = timings(result.to_arrow, 20, warmup=2)
    rows_once = [_rows_access(run) for _ in range(min(rounds, 3))] if rows <= 2_000_000 else []
    table.append(
        Row(
            "result.to_arrow()",
            median(to_arrow) * 1e3,
            p95(to_arrow) * 1e3,
            "ms",
            TO_ARROW_TARGET_MS,
            note="zero-copy: the fetched buffers, field ids and metadata added",
        )
    )
    if rows_once:
        table.append(Row("result.rows (first access)", median(rows_once), p95(rows_once), "s",
                         note="dict rows made lazily"))  # fmt: skip
    print_table(f"{rows:,} rows × 4 columns, {rounds} interleaved rounds", table)


def _rows_access(run: Callable[[], mq.QueryResult]) -> float:
    """Seconds of the first `.rows` access alone (the run before it not counted)."""
    result = run()
    start = time.perf_counter()
    _ = result.rows
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", default="1000000,10000000", help="comma-separated row counts")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as folder:
        project = _project(Path(folder))
        connection = duckdb.connect()
        if args.threads:
            connection.execute(f"SET threads = {args.threads}")
        for rows in (int(r) for r in args.rows.split(",")):
            _measure(rows, args.rounds, connection, project)


if __name__ == "__main__":
    main()
