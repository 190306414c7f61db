"""DuckDB time of metricql's SQL ÷ the best hand-written SQL for the same result (issue 7).

Run: python benchmarks/execution_overhead.py [--rows N] [--rounds 9] [--threads N] [--show-sql]
     [--only TEXT]

Builds deterministic data in an in-memory DuckDB with `range()` and `hash()` (no Python loops):
`orders` (--rows, default 1M), `customers` (rows/10) and `payments` (2 × rows, so most orders
have several and some none), plus the matching dbt YAML project in a temp dir whose relations
are `main.<table>`. Each query is compiled by metricql and run alternately with hand-written,
correct SQL for the same rows (the fastest of one or more formulations), `--rounds` times each
or more (until a case has run ≥ --min-seconds) after one warm-up run. Prints median and p95 of
metricql's time against a target of 1.10 × the best hand-written median (so the ratio column is
(metricql ÷ hand-written) ÷ 1.10; the note has the plain ratio, and that of the minima), and
checks the rows are the same (any order, floats to 1e-9 relative): a mismatch prints
WRONG RESULT.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
from _bench import Row, interleaved, machine, median, p95, print_table

import metricql as mq

TARGET_RATIO = 1.10

DATA_SQL = """
CREATE OR REPLACE TABLE customers AS
SELECT i AS customer_id,
       ['Germany', 'France', 'Japan', 'Brazil', 'Canada', 'India', 'Kenya', 'Mexico', 'Norway',
        'Peru', 'Spain', 'Chile'][1 + (hash(i, 'country') % 12)::BIGINT] AS country,
       ['consumer', 'smb', 'enterprise', 'public'][1 + (hash(i, 'segment') % 4)::BIGINT]
           AS segment,
       ((hash(i, 'score') % 10000)::BIGINT / 100.0)::DOUBLE AS score
FROM range(1, {customers} + 1) r(i);

CREATE OR REPLACE TABLE orders AS
SELECT i AS order_id,
       1 + (hash(i, 'customer') % {customers})::BIGINT AS customer_id,
       DATE '2022-01-01' + (hash(i, 'date') % 1096)::INTEGER AS order_date,
       ['completed', 'shipped', 'returned', 'placed', 'return_pending']
           [1 + (hash(i, 'status') % 5)::BIGINT] AS status,
       CASE WHEN hash(i, 'null') % 50 = 0 THEN NULL
            ELSE ((hash(i, 'amount') % 20000)::BIGINT / 100.0)::DOUBLE END AS amount
FROM range(1, {orders} + 1) r(i);

CREATE OR REPLACE TABLE payments AS
SELECT i AS payment_id,
       1 + (hash(i, 'order') % {orders})::BIGINT AS order_id,
       ['credit_card', 'bank_transfer', 'coupon', 'gift_card'][1 + (hash(i, 'method') % 4)::BIGINT]
           AS method,
       ((hash(i, 'paid') % 15000)::BIGINT / 100.0)::DOUBLE AS amount
FROM range(1, {payments} + 1) r(i);
"""

MODELS_YML = """version: 2
models:
  - name: orders
    meta:
      primary_key: order_id
      joins:
        - join: customers
          sql_on: ${orders.customer_id} = ${customers.customer_id}
          relationship: many-to-one
        - join: payments
          sql_on: ${orders.order_id} = ${payments.order_id}
          relationship: one-to-many
    columns:
      - name: order_id
        meta:
          dimension: {type: number}
          metrics:
            order_count: {type: count}
      - name: customer_id
        meta:
          dimension: {type: number}
          metrics:
            unique_customers: {type: count_distinct}
            completed_customers:
              type: count_distinct
              filters: [{status: completed}]
      - name: order_date
        meta:
          dimension: {type: date, time_intervals: [DAY, MONTH, YEAR]}
      - name: status
        meta:
          dimension: {type: string}
      - name: amount
        meta:
          dimension: {type: number}
          metrics:
            total_revenue: {type: sum}
            average_amount: {type: average}
  - name: customers
    meta:
      primary_key: customer_id
    columns:
      - name: customer_id
        meta:
          dimension: {type: number}
          metrics:
            customer_count: {type: count_distinct}
      - name: country
        meta:
          dimension: {type: string}
      - name: segment
        meta:
          dimension: {type: string}
      - name: score
        meta:
          dimension: {type: number}
          metrics:
            average_score: {type: average}
  - name: payments
    meta:
      primary_key: payment_id
    columns:
      - name: payment_id
        meta:
          dimension: {type: number}
      - name: order_id
        meta:
          dimension: {type: number}
      - name: method
        meta:
          dimension: {type: string}
      - name: amount
        meta:
          dimension: {type: number}
          metrics:
            total_amount: {type: sum}
"""


def _query(dims: Sequence[str], metrics: Sequence[str], **extra: Any) -> mq.MetricQuery:
    body: dict[str, Any] = {
        "exploreName": "orders",
        "dimensions": list(dims),
        "metrics": list(metrics),
        "sorts": [{"fieldId": metrics[0], "descending": True}],
        "limit": 5000,
        **extra,
    }
    return mq.MetricQuery.model_validate(body)


def _rule(field: str, operator: str, *values: Any) -> dict[str, Any]:
    return {"id": field, "target": {"fieldId": field}, "operator": operator, "values": values}


# name → (metric query, hand-written SQLs returning the same columns in the same order). Each
# case may list several correct formulations; the fastest is "the best hand-written SQL". They
# keep the query's ORDER BY and LIMIT so both sides do the same work.
CASES: Mapping[str, tuple[mq.MetricQuery, tuple[str, ...]]] = {
    "simple group-by": (
        _query(["orders_status"], ["orders_total_revenue", "orders_order_count"]),
        (
            """SELECT status, SUM(amount) AS rev, COUNT(order_id) AS n FROM orders
               GROUP BY status ORDER BY rev DESC LIMIT 5000""",
        ),
    ),
    "filtered, month": (
        _query(
            ["orders_order_date_month"],
            ["orders_total_revenue", "orders_average_amount"],
            filters={
                "dimensions": {
                    "id": "root",
                    "and": [
                        _rule("orders_status", "equals", "completed", "shipped"),
                        _rule("orders_order_date", "inBetween", "2023-01-01", "2023-12-31"),
                        _rule("orders_amount", "greaterThan", 20),
                    ],
                }
            },
        ),
        (
            """SELECT CAST(DATE_TRUNC('month', order_date) AS DATE) AS m, SUM(amount) AS rev,
                      AVG(amount) AS avg_amount
               FROM orders
               WHERE status IN ('completed', 'shipped')
                 AND order_date BETWEEN DATE '2023-01-01' AND DATE '2023-12-31' AND amount > 20
               GROUP BY m ORDER BY rev DESC LIMIT 5000""",
        ),
    ),
    "join many-to-one": (
        _query(
            ["customers_country", "customers_segment"],
            ["orders_total_revenue", "orders_order_count"],
        ),
        (
            """SELECT c.country, c.segment, SUM(o.amount) AS rev, COUNT(o.order_id) AS n
               FROM orders o LEFT JOIN customers c ON o.customer_id = c.customer_id
               GROUP BY c.country, c.segment ORDER BY rev DESC LIMIT 5000""",
            """WITH o AS (SELECT customer_id, SUM(amount) AS rev, COUNT(order_id) AS n
                         FROM orders GROUP BY customer_id)
               SELECT c.country, c.segment, SUM(o.rev) AS rev, SUM(o.n) AS n
               FROM o LEFT JOIN customers c ON o.customer_id = c.customer_id
               GROUP BY c.country, c.segment ORDER BY rev DESC LIMIT 5000""",
        ),
    ),
    "count_distinct": (
        _query(["customers_country"], ["orders_unique_customers", "orders_order_count"]),
        (
            """SELECT c.country, COUNT(DISTINCT o.customer_id) AS u, COUNT(o.order_id) AS n
               FROM orders o LEFT JOIN customers c ON o.customer_id = c.customer_id
               GROUP BY c.country ORDER BY u DESC LIMIT 5000""",
        ),
    ),
    # Fan-out: payments repeat orders; orders' metrics must count each order once.
    "fan-out one-to-many": (
        _query(
            ["orders_status"],
            ["orders_total_revenue", "orders_order_count", "payments_total_amount"],
        ),
        (
            """WITH paid AS (SELECT order_id, SUM(amount) AS paid FROM payments GROUP BY order_id)
               SELECT o.status, SUM(o.amount) AS rev, COUNT(o.order_id) AS n, SUM(p.paid) AS paid
               FROM orders o LEFT JOIN paid p ON o.order_id = p.order_id
               GROUP BY o.status ORDER BY rev DESC LIMIT 5000""",
            """WITH o AS (SELECT status, SUM(amount) AS rev, COUNT(order_id) AS n
                         FROM orders GROUP BY status),
               p AS (SELECT o.status, SUM(p.amount) AS paid
                     FROM orders o JOIN payments p ON o.order_id = p.order_id GROUP BY o.status)
               SELECT o.status, o.rev, o.n, p.paid
               FROM o LEFT JOIN p ON o.status IS NOT DISTINCT FROM p.status
               ORDER BY o.rev DESC LIMIT 5000""",
        ),
    ),
    # The dimension is on the many side: an order counts once per payment method it used.
    "fan-out, dim on many side": (
        _query(["payments_method"], ["orders_total_revenue", "payments_total_amount"]),
        (
            """WITH pm AS (SELECT order_id, method, SUM(amount) AS paid
                          FROM payments GROUP BY order_id, method)
               SELECT pm.method, SUM(o.amount) AS rev, SUM(pm.paid) AS paid
               FROM orders o LEFT JOIN pm ON o.order_id = pm.order_id
               GROUP BY pm.method ORDER BY rev DESC LIMIT 5000""",
            """WITH methods AS (SELECT DISTINCT order_id, method FROM payments),
               rev AS (SELECT m.method, SUM(o.amount) AS rev
                       FROM orders o LEFT JOIN methods m ON o.order_id = m.order_id
                       GROUP BY m.method),
               paid AS (SELECT p.method, SUM(p.amount) AS paid
                        FROM payments p JOIN orders o ON o.order_id = p.order_id
                        GROUP BY p.method)
               SELECT rev.method, rev.rev, paid.paid
               FROM rev LEFT JOIN paid ON rev.method IS NOT DISTINCT FROM paid.method
               ORDER BY rev.rev DESC LIMIT 5000""",
        ),
    ),
    # Many-to-one repeats customers (once per order): average each customer once per group.
    "fan-out many-to-one avg": (
        _query(["orders_status"], ["customers_average_score", "orders_order_count"]),
        (
            """WITH s AS (SELECT status, customer_id, COUNT(order_id) AS n
                         FROM orders GROUP BY status, customer_id)
               SELECT s.status, AVG(c.score) AS score, SUM(s.n) AS n
               FROM s LEFT JOIN customers c ON s.customer_id = c.customer_id
               GROUP BY s.status ORDER BY score DESC LIMIT 5000""",
            """WITH counts AS (SELECT status, COUNT(order_id) AS n FROM orders GROUP BY status),
               scores AS (SELECT s.status, AVG(c.score) AS score
                          FROM (SELECT DISTINCT status, customer_id FROM orders) s
                          LEFT JOIN customers c ON s.customer_id = c.customer_id
                          GROUP BY s.status)
               SELECT counts.status, scores.score, counts.n
               FROM counts JOIN scores ON counts.status IS NOT DISTINCT FROM scores.status
               ORDER BY scores.score DESC LIMIT 5000""",
        ),
    ),
    # Q3-like: a count_distinct with a YAML filter over a join, a metric filter on it, next to
    # a fanned-out metric (orders repeated by payments) and one of the many side.
    "count_distinct, filtered, fan-out": (
        _query(
            ["customers_country"],
            ["orders_completed_customers", "orders_total_revenue", "payments_total_amount"],
            filters={
                "metrics": {
                    "id": "m",
                    "and": [_rule("orders_completed_customers", "greaterThan", 100)],
                }
            },
        ),
        (
            """WITH paid AS (SELECT order_id, SUM(amount) AS paid
                            FROM payments GROUP BY order_id)
               SELECT c.country,
                      COUNT(DISTINCT CASE WHEN o.status = 'completed' THEN o.customer_id END)
                          AS u,
                      SUM(o.amount) AS rev, SUM(p.paid) AS paid
               FROM orders o LEFT JOIN customers c ON o.customer_id = c.customer_id
               LEFT JOIN paid p ON o.order_id = p.order_id
               GROUP BY c.country HAVING u > 100 ORDER BY u DESC LIMIT 5000""",
            """WITH o AS (SELECT c.country,
                                COUNT(DISTINCT CASE WHEN o.status = 'completed'
                                                    THEN o.customer_id END) AS u,
                                SUM(o.amount) AS rev
                         FROM orders o LEFT JOIN customers c ON o.customer_id = c.customer_id
                         GROUP BY c.country),
               p AS (SELECT c.country, SUM(p.amount) AS paid
                     FROM orders o LEFT JOIN customers c ON o.customer_id = c.customer_id
                     JOIN payments p ON o.order_id = p.order_id GROUP BY c.country)
               SELECT o.country, o.u, o.rev, p.paid
               FROM o LEFT JOIN p ON o.country IS NOT DISTINCT FROM p.country
               WHERE o.u > 100 ORDER BY o.u DESC LIMIT 5000""",
        ),
    ),
}


def build_data(con: duckdb.DuckDBPyConnection, orders: int) -> None:
    """Deterministic tables in `con` (hash-based values, no Python loops)."""
    sql = DATA_SQL.format(orders=orders, customers=max(1, orders // 10), payments=2 * orders)
    for statement in sql.split(";"):
        if statement.strip():
            con.execute(statement)


def write_project(root: Path) -> Path:
    """The dbt YAML project describing the generated tables (schema main)."""
    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text(
        "name: overhead\nversion: '1.0'\nconfig-version: 2\nprofile: overhead\n"
        "model-paths: [models]\n"
    )
    (root / "profiles.yml").write_text(
        "overhead:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        "      path: ':memory:'\n      schema: main\n"
    )
    (root / "models" / "models.yml").write_text(MODELS_YML)
    return root


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, round(v, 6) if isinstance(v, float) else str(v)) for v in row)


def same_rows(got: list[tuple[Any, ...]], want: list[tuple[Any, ...]]) -> str | None:
    """None when the row sets match (any order); else what differs."""
    if len(got) != len(want):
        return f"{len(got)} rows vs {len(want)}"
    for g, w in zip(sorted(got, key=_sort_key), sorted(want, key=_sort_key), strict=True):
        if len(g) != len(w) or not all(_same(x, y) for x, y in zip(g, w, strict=True)):
            return f"row {g!r} vs {w!r}"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="orders (fact) rows")
    parser.add_argument("--rounds", type=int, default=9, help="least timed runs of each SQL")
    parser.add_argument(
        "--min-seconds", type=float, default=3.0, help="more rounds until a case takes this long"
    )
    parser.add_argument("--threads", type=int, help="DuckDB threads (default: DuckDB's)")
    parser.add_argument("--show-sql", action="store_true", help="print the generated SQL")
    parser.add_argument("--only", help="run only the cases whose name contains this text")
    args = parser.parse_args()
    print(machine())

    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")
    build_data(con, args.rows)
    tables = ("orders", "customers", "payments")
    counts = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    print(f"data: {counts}, DuckDB threads: {threads}")
    with tempfile.TemporaryDirectory(prefix="metricql-overhead-") as tmp:
        project = mq.load_project(write_project(Path(tmp)))

    rows: list[Row] = []
    for name, (query, hand_sqls) in CASES.items():
        if args.only and args.only not in name:
            continue
        try:
            compiled = project.compile(query, dialect="duckdb")
        except mq.MetricQLError as err:
            rows.append(Row(name, None, None, "ms", error=f"{type(err).__name__}: {err}"[:90]))
            continue
        if args.show_sql:
            print(f"\n-- {name}\n{compiled.sql}")
        runs = [lambda s=compiled.sql: con.execute(s).fetchall()]
        runs += [lambda s=sql: con.execute(s).fetchall() for sql in hand_sqls]
        start = time.perf_counter()
        results = [run() for run in runs]  # also the warm-up runs
        rounds = max(args.rounds, math.ceil(args.min_seconds / (time.perf_counter() - start)))
        for i, other in enumerate(results[2:], start=2):
            if same_rows(other, results[1]):
                raise SystemExit(f"{name}: hand-written variant {i - 1} disagrees with the first")
        mismatch = same_rows(results[0], results[1])
        series = interleaved(runs, rounds)
        generated = series[0]
        best = min(range(1, len(runs)), key=lambda i: median(series[i]))
        hand = median(series[best])
        best_min = min(min(t) for t in series[1:])
        note = (
            f"{rounds} rounds; hand-written {hand * 1e3:.1f} ms, "
            f"metricql ÷ hand {median(generated) / hand:.2f} "
            f"(of the minima {min(generated) / best_min:.2f})"
        )
        if len(runs) > 2:
            note += f" (best of {len(runs) - 1} formulations: #{best})"
        if compiled.warnings:
            note += f"; warnings: {'; '.join(compiled.warnings)[:80]}"
        verdict = None
        if mismatch:
            verdict = "WRONG RESULT"
            note = f"{mismatch[:80]}; {note}"
        rows.append(
            Row(
                name,
                median(generated) * 1e3,
                p95(generated) * 1e3,
                "ms",
                hand * TARGET_RATIO * 1e3,
                note,
                verdict=verdict,
            )
        )
    print_table(
        f"execution on DuckDB, ≥ {args.rounds} rounds: metricql SQL vs hand-written "
        f"(target: {TARGET_RATIO:.2f} × hand-written median)",
        rows,
    )


if __name__ == "__main__":
    main()
