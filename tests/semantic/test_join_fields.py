"""A join's `fields:` list: every entry names a field of the joined model (or a set of them),
so a typo never hides a field silently; interval children may be listed by their own name."""

from __future__ import annotations

from pathlib import Path

import duckdb

import metricql as mq
from tests.conftest import assert_same_rows
from tests.helpers import load_problem, make_project

MODELS = """\
version: 2
models:
  - name: orders
    meta:
      joins:
        - join: customers
          sql_on: ${orders.customer_id} = ${customers.id}
          relationship: many-to-one
          fields: [FIELDS]
    columns:
      - name: id
        meta: {dimension: {type: number}, metrics: {order_count: {type: count}}}
      - name: customer_id
        meta: {dimension: {type: number}}
  - name: customers
    meta:
      sql_from: "(SELECT 1 AS id, 'EU' AS region, DATE '2024-05-02' AS signed_up)"
    columns:
      - name: id
        meta: {dimension: {type: number}}
      - name: region
        meta: {dimension: {type: string}}
      - name: signed_up
        meta: {dimension: {type: date, time_intervals: [MONTH]}}
"""


def _project(tmp_path: Path, fields: str) -> Path:
    return make_project(tmp_path, {"models": MODELS.replace("FIELDS", fields)})


def test_a_misspelt_join_field_is_named_with_a_suggestion(tmp_path: Path) -> None:
    root = _project(tmp_path, "id, regoin")
    problem = load_problem(root)
    assert "'regoin'" in problem.message and "customers" in problem.message
    assert problem.hint is not None and "'region'" in problem.hint
    loaded = mq.load_project(root)  # isolated: the explore is broken, the others load
    assert "orders" in loaded.broken_explores and "customers" in loaded.explores


def test_listed_fields_and_interval_children_are_kept(tmp_path: Path) -> None:
    project = mq.load_project(_project(tmp_path, "id, region, signed_up_month"))
    orders = project.explore("orders")
    assert {"customers_region", "customers_id"} <= set(orders.dimensions)
    assert "customers_signed_up_month" in orders.dimensions  # the child keeps its base
    query = mq.MetricQuery(
        explore_name="orders", dimensions=["customers_region"], metrics=["orders_order_count"]
    )
    conn = duckdb.connect()
    conn.execute("CREATE TABLE orders AS FROM (VALUES (1, 1), (2, 1), (3, 2)) t(id, customer_id)")
    got = project.run(query, connection=conn).rows
    want = conn.execute(
        "SELECT c.region, COUNT(o.id) FROM orders o LEFT JOIN "
        "(SELECT 1 AS id, 'EU' AS region) c ON o.customer_id = c.id GROUP BY 1"
    ).fetchall()
    assert_same_rows(got, want, ["customers_region", "orders_order_count"])
