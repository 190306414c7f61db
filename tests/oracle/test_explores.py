"""Additional explores (`meta.explores`) and join field subsets with sets."""

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
    meta:
      sets:
        contact: {fields: [email, first_name]}
        public: {fields: [contact*, country, -email]}
    columns:
      - name: customer_id
        meta: {dimension: {type: number}}
      - name: first_name
      - name: email
      - name: country
  - name: orders
    meta:
      joins:
        - join: customers
          sql_on: ${orders.customer_id} = ${customers.customer_id}
          relationship: many-to-one
          fields: [public*]
      explores:
        completed_orders:
          label: Completed orders
          sql_filter: ${TABLE}.status = 'completed'
        orders_with_referrer:
          joins:
            - join: customers
              alias: buyer
              sql_on: ${orders.customer_id} = ${buyer.customer_id}
              relationship: many-to-one
    columns:
      - name: order_id
        meta:
          dimension: {type: number}
          metrics: {n: {type: count}, revenue: {type: sum, sql: "${TABLE}.amount"}}
      - name: customer_id
        meta: {dimension: {type: number}}
      - name: status
      - name: amount
        meta: {dimension: {type: number}}
"""


@pytest.fixture(scope="module")
def explores_project(tmp_path_factory: pytest.TempPathFactory) -> mq.Project:
    return mq.load_project(make_project(tmp_path_factory.mktemp("ex"), {"models": MODELS}))


def test_additional_explores_exist_with_their_own_config(explores_project: mq.Project) -> None:
    assert sorted(explores_project.explores) == [
        "completed_orders",
        "customers",
        "orders",
        "orders_with_referrer",
    ]
    completed = explores_project.explore("completed_orders")
    assert (completed.label, completed.base_table) == ("Completed orders", "orders")
    assert [j.table for j in completed.joins] == ["customers"]  # joins default to the model's
    assert [j.table for j in explores_project.explore("orders_with_referrer").joins] == ["buyer"]


def test_additional_explore_sql_filter_applies(
    explores_project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    query = mq.MetricQuery(
        explore_name="completed_orders",
        dimensions=["customers_country"],
        metrics=["orders_revenue"],
        limit=None,
    )
    rows = explores_project.run(query, connection=duck).rows
    want = duck.sql("""SELECT c.country, SUM(o.amount) FROM main.orders o
                       LEFT JOIN main.customers c ON o.customer_id = c.customer_id
                       WHERE o.status = 'completed' GROUP BY 1""").fetchall()
    assert_same_rows(rows, want, ["customers_country", "orders_revenue"])


def test_join_fields_from_nested_sets_with_exclusion(explores_project: mq.Project) -> None:
    dims = explores_project.explore("orders").dimensions
    visible = sorted(k for k, d in dims.items() if d.table == "customers" and not d.hidden)
    assert visible == ["customers_country", "customers_first_name"]
    assert dims["customers_customer_id"].hidden  # used in sql_on: kept, hidden
    assert "customers_email" not in dims


@pytest.mark.parametrize(
    ("sets", "culprit"),
    [
        ("        a: {fields: [b*]}\n        b: {fields: [a*]}\n", "cycle"),
        ("        a: {fields: [nope*]}\n", "'nope' is not defined"),
        (
            "        a: {fields: [b*]}\n        b: {fields: [c*]}\n        c: {fields: [d*]}\n"
            "        d: {fields: [email]}\n",
            "deeper than 3",
        ),
        ("        a: {fields: ['bad name!']}\n", "invalid field entry"),
    ],
)
def test_bad_sets(tmp_path: Path, sets: str, culprit: str) -> None:
    text = MODELS.replace(
        "        contact: {fields: [email, first_name]}\n"
        "        public: {fields: [contact*, country, -email]}\n",
        sets,
    ).replace("fields: [public*]", "fields: [a*]")
    err = load_problem(make_project(tmp_path, {"models": text}))
    assert isinstance(err, mq.CompileError)
    assert re.search(culprit, str(err))


def test_duplicate_explore_name(tmp_path: Path) -> None:
    text = MODELS.replace("        completed_orders:", "        customers:")
    err = load_problem(make_project(tmp_path, {"models": text}))
    assert isinstance(err, mq.CompileError)
    assert re.search("'customers' is defined twice", str(err))
