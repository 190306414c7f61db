"""Oracle tests for the narrowed fan-out pieces (`compiler/sql/narrow.py`).

Random small tables, with NULL and orphan join keys, NULL dimension values, orders without
payments and customers without orders, against hand-written SQL of a different shape:
EXISTS per group instead of joins for the repeated tables, separate GROUP BYs for the rest.
The pieces under test: INNER JOINed pieces LEFT JOINed back (counts 0, not NULL, where a
group has no payment), repeating tables read deduplicated with and without a DISTINCT over
the joined rows, and the fallbacks (a value that is not NULL without its table, a filter on
the repeating table, a dimension computed from it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlglot import exp

import metricql as mq
from tests.conftest import assert_same_rows
from tests.helpers import make_project

MODELS = """
version: 2
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
            status_a_customers:
              type: count_distinct
              filters: [{status: a}]
      - name: status
        meta:
          dimension: {type: string}
      - name: amount
        meta:
          dimension: {type: number}
          metrics:
            revenue: {type: sum}
            average_amount: {type: average}
            median_amount: {type: median}
            p90_amount: {type: percentile, percentile: 90}
            top_amount: {type: max}
  - name: customers
    meta:
      primary_key: customer_id
    columns:
      - name: customer_id
        meta:
          dimension: {type: number}
          metrics:
            customer_rows: {type: count}
      - name: country
        meta:
          dimension: {type: string}
      - name: score
        meta:
          dimension: {type: number}
          metrics:
            average_score: {type: average}
            total_score: {type: sum}
            average_or_zero:
              type: average
              sql: COALESCE(${TABLE}.score, 0)
  - name: payments
    meta:
      primary_key: payment_id
    columns:
      - name: payment_id
        meta:
          dimension: {type: number}
          metrics:
            payment_count: {type: count}
      - name: order_id
        meta:
          dimension: {type: number}
      - name: method
        meta:
          dimension: {type: string}
          additional_dimensions:
            method_kind:
              type: string
              sql: CASE WHEN ${TABLE}.method = 'coupon' THEN 'free' ELSE 'paid' END
      - name: amount
        meta:
          dimension: {type: number}
          metrics:
            paid: {type: sum}
            coupon_paid:
              type: sum
              filters: [{method: coupon}]
            paid_or_zero:
              type: sum
              sql: COALESCE(${TABLE}.amount, 0)
            payers:
              type: count_distinct
              sql: ${TABLE}.order_id
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> mq.Project:
    return mq.load_project(make_project(tmp_path_factory.mktemp("narrow"), {"m": MODELS}))


_text = st.sampled_from(["a", "b", None])
_amount = st.one_of(st.none(), st.integers(0, 9).map(float))
_customers = st.lists(st.tuples(st.sampled_from(["de", "fr", None]), _amount), max_size=4)
_orders = st.lists(
    st.tuples(st.sampled_from([1, 2, 3, 6, None]), _text, _amount), min_size=1, max_size=7
)  # customer 6 never exists
_payments = st.lists(
    st.tuples(
        st.sampled_from([1, 2, 3, 4, 12, None]), st.sampled_from(["coupon", "card", None]), _amount
    ),
    max_size=9,
)  # order 12 never exists


def _load(
    customers: list[Any], orders: list[Any], payments: list[Any]
) -> duckdb.DuckDBPyConnection:
    duck = duckdb.connect()
    duck.execute("CREATE TABLE customers (customer_id INT, country TEXT, score DOUBLE)")
    duck.execute("CREATE TABLE orders (order_id INT, customer_id INT, status TEXT, amount DOUBLE)")
    duck.execute("CREATE TABLE payments (payment_id INT, order_id INT, method TEXT, amount DOUBLE)")
    for name, rows in (("customers", customers), ("orders", orders), ("payments", payments)):
        for i, row in enumerate(rows, start=1):
            marks = ", ".join("?" * (len(row) + 1))
            duck.execute(f"INSERT INTO {name} VALUES ({marks})", [i, *row])
    return duck


def _run(project: mq.Project, duck: duckdb.DuckDBPyConnection, **body: Any) -> mq.QueryResult:
    query = mq.MetricQuery.model_validate({"exploreName": "orders", "limit": None, **body})
    return project.run(query, connection=duck)


# orders' metrics per group over `o`, each order at most once per group
_ORDERS = (
    "SUM(o.amount), COUNT(o.order_id), AVG(o.amount), COUNT(DISTINCT o.customer_id), "
    "COUNT(DISTINCT CASE WHEN o.status = 'a' THEN o.customer_id END), "
    "MEDIAN(o.amount), QUANTILE_CONT(o.amount, 0.9)"
)
_ORDER_IDS = [
    "orders_revenue",
    "orders_order_count",
    "orders_average_amount",
    "orders_unique_customers",
    "orders_status_a_customers",
    "orders_median_amount",
    "orders_p90_amount",
]
_PAYMENTS = (
    "SUM(p.amount), COUNT(p.payment_id), SUM(CASE WHEN p.method = 'coupon' THEN p.amount END), "
    "COUNT(DISTINCT p.order_id)"
)
_PAYMENT_IDS = [
    "payments_paid",
    "payments_payment_count",
    "payments_coupon_paid",
    "payments_payers",
]

# Each case: the query, and hand-written SQL returning its columns in order.
CASES: dict[str, tuple[dict[str, Any], str]] = {
    "payments per order status": (
        {"dimensions": ["orders_status"], "metrics": [*_ORDER_IDS, *_PAYMENT_IDS]},
        f"""
        WITH o AS (SELECT o.status, {_ORDERS} FROM orders o GROUP BY 1),
             p AS (SELECT o.status, {_PAYMENTS}
                   FROM orders o LEFT JOIN payments p ON p.order_id = o.order_id GROUP BY 1)
        SELECT o.*, p.* EXCLUDE (status) FROM o JOIN p ON o.status IS NOT DISTINCT FROM p.status
        """,
    ),
    "zero-filled payments per order status": (
        {"dimensions": ["orders_status"], "metrics": ["orders_revenue", "payments_paid_or_zero"]},
        """
        SELECT o.status, SUM(o.amount), SUM(COALESCE(p.z, 0))  -- an order alone: one 0 row
        FROM orders o LEFT JOIN (SELECT order_id, SUM(COALESCE(amount, 0)) AS z
                                 FROM payments GROUP BY 1) p ON p.order_id = o.order_id
        GROUP BY 1
        """,
    ),
    "orders per payment method": (
        {
            "dimensions": ["payments_method"],
            "metrics": [
                *_ORDER_IDS,
                "orders_top_amount",
                "payments_paid",
                "payments_payment_count",
            ],
        },
        f"""
        WITH g AS (SELECT DISTINCT p.method FROM orders o
                   LEFT JOIN payments p ON p.order_id = o.order_id),
             o AS (SELECT g.method, {_ORDERS}, MAX(o.amount) FROM g LEFT JOIN orders o ON EXISTS (
                     SELECT 1 FROM payments p
                     WHERE p.order_id = o.order_id AND p.method IS NOT DISTINCT FROM g.method)
                   OR (g.method IS NULL
                       AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.order_id))
                   GROUP BY 1),
             p AS (SELECT p.method, SUM(p.amount) AS paid, COUNT(*) AS n
                   FROM payments p WHERE p.order_id IN (SELECT order_id FROM orders) GROUP BY 1)
        SELECT o.*, p.paid, COALESCE(p.n, 0)
        FROM o LEFT JOIN p ON o.method IS NOT DISTINCT FROM p.method
        """,
    ),
    "customers per order status": (
        {
            "dimensions": ["orders_status"],
            "metrics": ["customers_average_score", "customers_total_score", "orders_order_count"],
        },
        """
        WITH g AS (SELECT status, COUNT(order_id) AS n FROM orders GROUP BY 1),
             c AS (SELECT g.status, AVG(c.score) AS a, SUM(c.score) AS s
                   FROM g LEFT JOIN customers c ON EXISTS (
                     SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id
                     AND o.status IS NOT DISTINCT FROM g.status)
                   GROUP BY 1)
        SELECT g.status, c.a, c.s, g.n FROM g JOIN c ON g.status IS NOT DISTINCT FROM c.status
        """,
    ),
    # An order without its customer counts as one customer scoring 0 in its group (however
    # many such orders): the customers' rows keep their DISTINCT.
    "zero-filled customer scores per order status": (
        {"dimensions": ["orders_status"], "metrics": ["customers_average_or_zero"]},
        """
        WITH k AS (SELECT DISTINCT o.status, c.customer_id, COALESCE(c.score, 0) AS v
                   FROM orders o LEFT JOIN customers c ON c.customer_id = o.customer_id)
        SELECT status, AVG(v) FROM k GROUP BY 1
        """,
    ),
    "customers per payment method (repeated twice over)": (
        {
            "dimensions": ["payments_method"],
            "metrics": ["customers_average_score", "customers_customer_rows"],
        },
        """
        WITH j AS (SELECT o.customer_id, p.method FROM orders o
                   LEFT JOIN payments p ON p.order_id = o.order_id),
             g AS (SELECT DISTINCT method FROM j)
        SELECT g.method, AVG(c.score), COUNT(c.customer_id)
        FROM g LEFT JOIN customers c ON EXISTS (
          SELECT 1 FROM j WHERE j.customer_id = c.customer_id
          AND j.method IS NOT DISTINCT FROM g.method)
        GROUP BY 1
        """,
    ),
    "orders per computed payment kind": (
        {
            "dimensions": ["payments_method_kind"],
            "metrics": ["orders_revenue", "orders_order_count"],
        },
        """
        WITH k AS (SELECT DISTINCT o.order_id, o.amount,
                     CASE WHEN p.method = 'coupon' THEN 'free' ELSE 'paid' END AS kind
                   FROM orders o LEFT JOIN payments p ON p.order_id = o.order_id)
        SELECT kind, SUM(amount), COUNT(order_id) FROM k GROUP BY 1
        """,
    ),
    "orders with a coupon payment, per country": (
        {
            "dimensions": ["customers_country"],
            "metrics": ["orders_revenue", "customers_average_score", "payments_payment_count"],
            "filters": {
                "dimensions": {
                    "id": "f",
                    "and": [
                        {
                            "id": "r",
                            "target": {"fieldId": "payments_method"},
                            "operator": "equals",
                            "values": ["coupon"],
                        }
                    ],
                }
            },
        },
        """
        WITH o AS (SELECT * FROM orders o WHERE EXISTS (
                     SELECT 1 FROM payments p WHERE p.order_id = o.order_id
                     AND p.method = 'coupon')),
             g AS (SELECT c.country, SUM(o.amount) AS rev
                   FROM o LEFT JOIN customers c ON c.customer_id = o.customer_id GROUP BY 1),
             s AS (SELECT g.country, AVG(c.score) AS score FROM g LEFT JOIN customers c
                   ON c.country IS NOT DISTINCT FROM g.country
                   AND c.customer_id IN (SELECT customer_id FROM o) GROUP BY 1),
             n AS (SELECT c.country, COUNT(p.payment_id) AS n
                   FROM o LEFT JOIN customers c ON c.customer_id = o.customer_id
                   JOIN payments p ON p.order_id = o.order_id AND p.method = 'coupon'
                   GROUP BY 1)
        SELECT g.country, g.rev, s.score, COALESCE(n.n, 0)
        FROM g JOIN s ON g.country IS NOT DISTINCT FROM s.country
        LEFT JOIN n ON g.country IS NOT DISTINCT FROM n.country
        """,
    ),
    "no dimensions": (
        {"metrics": ["orders_revenue", "payments_payment_count", "payments_paid_or_zero"]},
        """
        SELECT (SELECT SUM(amount) FROM orders),
               (SELECT COUNT(p.payment_id)
                FROM orders o JOIN payments p ON p.order_id = o.order_id),
               (SELECT SUM(COALESCE(p.amount, 0))
                FROM orders o LEFT JOIN payments p ON p.order_id = o.order_id)
        """,
    ),
}


def _columns(body: dict[str, Any]) -> list[str]:
    return [*body.get("dimensions", []), *body["metrics"]]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(customers=_customers, orders=_orders, payments=_payments)
@example(  # every case has rows: orphans, NULL keys, an order without payments, all methods
    customers=[("de", 1.0), ("fr", None), (None, 4.0)],
    orders=[(1, "a", 2.0), (2, "a", None), (1, None, 5.0), (6, "b", 3.0), (None, "b", 1.0)],
    payments=[
        (1, "coupon", 2.0),
        (1, "card", None),
        (1, "coupon", 1.0),
        (3, None, 4.0),
        (12, "card", 9.0),
        (None, "coupon", 1.0),
        (4, "card", 3.0),
    ],
)
def test_narrowed_pieces_match_hand_written_sql(
    project: mq.Project, customers: list[Any], orders: list[Any], payments: list[Any]
) -> None:
    duck = _load(customers, orders, payments)
    for name, (body, sql) in CASES.items():
        result = _run(project, duck, **body)
        want = duck.sql(sql).fetchall()
        if not want:  # e.g. no coupon payment at all
            assert result.rows == [], name
            continue
        try:
            assert_same_rows(result.rows, want, _columns(body))
        except AssertionError as err:
            raise AssertionError(f"{name}: {err}\n{result.sql}") from err


def _ctes(project: mq.Project, **body: Any) -> dict[str, exp.Select]:
    query = mq.MetricQuery.model_validate({"exploreName": "orders", **body})
    return {c.alias: c.this for c in project.compile(query).tree.find_all(exp.CTE)}


def test_the_narrowed_shapes_are_the_ones_tested(project: mq.Project) -> None:
    """Guard for the oracle above: each case takes the path it is meant to cover."""
    status = _ctes(project, **CASES["payments per order status"][0])
    [inner] = status["joined_metrics"].args["joins"]
    assert (
        inner.args.get("kind") == "INNER"
    )  # paid, counts, coupon, payers: all skip no-payment rows
    assert "COUNT(DISTINCT" in status["fanout_orders_metrics"].sql()  # with orders' piece
    method = _ctes(project, **CASES["orders per payment method"][0])
    assert not method["fanout_orders_rows"].args.get("distinct")
    outputs = {e.alias_or_name for e in method["fanout_orders_metrics"].expressions}
    assert {
        "orders_unique_customers",
        "orders_top_amount",
    } <= outputs  # with the DISTINCT-free rows
    kind = _ctes(project, **CASES["orders per computed payment kind"][0])
    assert kind["fanout_orders_rows"].args.get("distinct")  # a CASE of method: not fixed
    coupon = _ctes(project, **CASES["orders with a coupon payment, per country"][0])
    assert coupon["fanout_orders_rows"].args.get("distinct")  # filtered on method: not fixed
    assert coupon["fanout_customers_rows"].args.get("distinct")
    customers = _ctes(project, **CASES["customers per order status"][0])
    assert not customers["fanout_customers_rows"].args.get("distinct")
    assert "joined_metrics" not in customers  # the order count: partial counts per group
    twice = _ctes(project, **CASES["customers per payment method (repeated twice over)"][0])
    assert twice["fanout_customers_rows"].args.get("distinct")  # a customer's orders vary


def test_a_value_that_is_not_null_without_its_table_keeps_the_left_join(
    project: mq.Project,
) -> None:
    ctes = _ctes(
        project, dimensions=["orders_status"], metrics=["orders_revenue", "payments_paid_or_zero"]
    )
    [join] = ctes["joined_metrics"].args["joins"]
    assert join.side == "LEFT"  # COALESCE(amount, 0) is 0, not NULL, for an order without payments


def test_explain_names_the_piece_each_metric_moved_to(
    project: mq.Project,
) -> None:
    query = mq.MetricQuery.model_validate(
        {"exploreName": "orders", **CASES["orders per payment method"][0]}
    )
    places = {m.id: m.computed_in for m in project.explain(query).metrics}
    assert places["orders_unique_customers"] == "fanout_orders_metrics"
    assert places["orders_top_amount"] == "fanout_orders_metrics"
    # payments' sums and counts: per deduplicated payments row there, then totalled
    assert places["payments_paid"] == places["payments_payment_count"] == "fanout_orders_metrics"


def test_right_and_full_joins_keep_the_distinct_rows(tmp_path: Path) -> None:
    """Their unmatched rows come from the right: nothing is narrowed there."""
    for side in ("full", "right"):
        models = MODELS.replace(
            "relationship: one-to-many", f"relationship: one-to-many\n          type: {side}"
        )
        project = mq.load_project(make_project(tmp_path / side, {"m": models}))
        rows = _ctes(project, **CASES["orders per payment method"][0])["fanout_orders_rows"]
        assert rows.args.get("distinct"), side
        assert not list(rows.find_all(exp.Subquery)), side
