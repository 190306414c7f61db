"""YAML filter shorthand in projects: required/default filters and metric `filters:`."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

import metricql as mq
from tests.conftest import assert_same_rows
from tests.helpers import load_problem, make_project

MODELS = """
models:
  - name: customers
    columns:
      - name: customer_id
        meta: {dimension: {type: number}}
      - name: country
        meta: {dimension: {type: string}}
      - name: secret
        meta: {dimension: {type: string, hidden: true, sql: "${TABLE}.email"}}
  - name: orders
    meta:
      required_filters:
        - status: '!returned'
        - customers.country: '!null'
      default_filters:
        - order_date: 'inThePast 14 days'
      joins:
        - join: customers
          sql_on: ${orders.customer_id} = ${customers.customer_id}
          relationship: many-to-one
    columns:
      - name: order_id
        meta:
          dimension: {type: number}
          metrics:
            big_open_orders:
              type: count
              filters:
                - amount: '> 100'
                - status: ['placed', 'shipped']
            gmail_orders:
              type: count
              filters:
                - customers.country: 'Ger%'
      - name: customer_id
        meta: {dimension: {type: number}}
      - name: status
        meta: {dimension: {type: string}}
      - name: amount
        meta: {dimension: {type: number}}
      - name: order_date
        meta: {dimension: {type: date}}
"""


@pytest.fixture(scope="module")
def yaml_project(tmp_path_factory: pytest.TempPathFactory) -> mq.Project:
    return mq.load_project(make_project(tmp_path_factory.mktemp("yf"), {"models": MODELS}))


def _count(p: mq.Project, duck: duckdb.DuckDBPyConnection, **kw: object) -> list[dict[str, object]]:
    query = mq.MetricQuery(explore_name="orders", limit=None, **kw)  # type: ignore[arg-type]
    return p.run(query, connection=duck).rows


def test_required_filters_are_enforced(
    yaml_project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    rows = _count(
        yaml_project, duck, dimensions=["orders_status"], metrics=["orders_big_open_orders"]
    )
    want = duck.sql("""
        SELECT o.status, COUNT(CASE WHEN o.amount > 100 AND o.status IN ('placed', 'shipped')
                                    THEN o.order_id END)
        FROM main.orders o LEFT JOIN main.customers c ON o.customer_id = c.customer_id
        WHERE (o.status <> 'returned' OR o.status IS NULL) AND c.country IS NOT NULL
        GROUP BY 1""").fetchall()
    assert_same_rows(rows, want, ["orders_status", "orders_big_open_orders"])


def test_query_filter_on_the_field_overrides_required_filter(
    yaml_project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    rows = _count(
        yaml_project,
        duck,
        dimensions=["orders_status"],
        metrics=["orders_gmail_orders"],
        filters={
            "dimensions": {
                "id": "g",
                "and": [
                    {
                        "id": "r",
                        "target": {"fieldId": "orders_status"},
                        "operator": "equals",
                        "values": ["returned"],
                    }
                ],
            }
        },
    )
    want = duck.sql("""
        SELECT o.status, COUNT(CASE WHEN c.country LIKE 'Ger%' THEN o.order_id END)
        FROM main.orders o LEFT JOIN main.customers c ON o.customer_id = c.customer_id
        WHERE o.status = 'returned' AND c.country IS NOT NULL GROUP BY 1""").fetchall()
    assert_same_rows(rows, want, ["orders_status", "orders_gmail_orders"])


def test_default_filters_are_exposed_not_enforced(yaml_project: mq.Project) -> None:
    explore = yaml_project.explore("orders")
    summary = [(r.target.field_id, r.operator.value, r.required) for r in explore.default_filters]
    assert summary == [
        ("orders_status", "notEquals", True),
        ("customers_country", "notNull", True),
        ("orders_order_date", "inThePast", False),
    ]
    sql = yaml_project.compile(
        mq.MetricQuery(explore_name="orders", metrics=["orders_big_open_orders"])
    ).sql
    assert "order_date" not in sql


@pytest.mark.parametrize(
    ("extra", "culprit"),
    [
        ("      required_filters:\n        - customers.secret: x\n", "Hidden fields"),
        ("      required_filters:\n        - nope: x\n", "nope"),
        ("      required_filters:\n        - status: 'EMPTY'\n", "status"),
    ],
)
def test_bad_required_filters(tmp_path: Path, extra: str, culprit: str) -> None:
    text = MODELS.replace(
        "      required_filters:\n        - status: '!returned'\n"
        "        - customers.country: '!null'\n",
        extra,
    )
    err = load_problem(make_project(tmp_path, {"models": text}))
    assert isinstance(err, mq.CompileError)
    assert re.search(culprit, str(err))


def test_metric_filter_on_non_aggregate_metric_is_rejected(tmp_path: Path) -> None:
    text = MODELS.replace(
        "  - name: orders\n    meta:\n",
        """  - name: orders
    meta:
      metrics:
        ratio:
          type: number
          sql: ${big_open_orders} / 2
          filters: [{status: placed}]
""",
    )
    err = load_problem(make_project(tmp_path, {"models": text}))
    assert isinstance(err, mq.CompileError)
    assert re.search("metric filters cannot be used", str(err))
