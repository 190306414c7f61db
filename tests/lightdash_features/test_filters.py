"""Filters as real projects write them (issue 10, items 5 and 7): a field named twice in metric
`filters:` or `required_filters` applies every entry; date values as Lightdash saves them."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

import metricql as mq
from tests.conftest import assert_same_rows


def test_metric_filters_on_one_field_twice_all_apply(
    features: mq.Project, fduck: duckdb.DuckDBPyConnection
) -> None:
    query = mq.MetricQuery(
        explore_name="orders", dimensions=["orders_status"], metrics=["orders_mid_size_revenue"]
    )
    want = fduck.sql(
        "SELECT status, SUM(CASE WHEN amount > 5 AND amount < 20 THEN amount END) "
        "FROM main.orders GROUP BY 1"
    ).fetchall()
    got = features.run(query, connection=fduck).rows
    assert_same_rows(got, want, ["orders_status", "orders_mid_size_revenue"])


def test_required_filters_on_one_field_twice_all_apply(
    features: mq.Project, fduck: duckdb.DuckDBPyConnection
) -> None:
    assert len(features.explore("large_orders").default_filters) == 2
    query = mq.MetricQuery(
        explore_name="large_orders", dimensions=["orders_status"], metrics=["orders_order_count"]
    )
    want = fduck.sql(
        "SELECT status, COUNT(DISTINCT order_id) FROM main.orders "
        "WHERE amount >= 10 AND status <> 'placed' AND status <> 'returned' GROUP BY 1"
    ).fetchall()
    got = features.run(query, connection=fduck).rows
    assert_same_rows(got, want, ["orders_status", "orders_order_count"])
    assert [r["orders_status"] for r in got] == ["completed"]


MONTH_IS = "date_trunc('month', order_date) = "
DATE_CASES = [
    # (field, operator, value as Lightdash saves it, hand-written condition)
    ("orders_order_date", "greaterThan", "2025", "order_date > DATE '2025-01-01'"),
    ("orders_order_date", "lessThan", "2024-04", "order_date < DATE '2024-04-01'"),
    ("orders_order_date", "equals", "2024-04-18", "order_date = DATE '2024-04-18'"),
    ("orders_order_date", "equals", "2024-04-18T00:00:00Z", "order_date = DATE '2024-04-18'"),
    ("orders_order_date", "equals", "2024-04-18T00:00:00.000Z", "order_date = DATE '2024-04-18'"),
    ("orders_order_date", "equals", "2024-04-18T02:00:00+02:00", "order_date = DATE '2024-04-18'"),
    ("orders_order_date_month", "equals", "2024-04", MONTH_IS + "DATE '2024-04-01'"),
    ("orders_order_date_month", "equals", "2024-4", MONTH_IS + "DATE '2024-04-01'"),
    ("orders_order_date_year", "equals", "2025", "year(order_date) = 2025"),
    ("orders_order_date_year", "equals", 2024, "year(order_date) = 2024"),
    ("orders_order_date_quarter", "equals", "2024-04", "quarter(order_date) = 2 AND year(order_date) = 2024"),  # noqa: E501
    ("orders_order_date_year", "inBetween", ["2024", "2025"], "year(order_date) BETWEEN 2024 AND 2025"),  # noqa: E501
]  # fmt: skip


@pytest.mark.parametrize(("field", "operator", "value", "condition"), DATE_CASES)
def test_date_values_as_lightdash_saves_them(
    features: mq.Project,
    fduck: duckdb.DuckDBPyConnection,
    field: str,
    operator: str,
    value: Any,
    condition: str,
) -> None:
    values = value if isinstance(value, list) else [value]
    rule = {"id": "r", "target": {"fieldId": field}, "operator": operator, "values": values}
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "dimensions": ["orders_order_id"],
            "metrics": [],
            "filters": {"dimensions": {"id": "g", "and": [rule]}},
        }
    )
    got = sorted(r["orders_order_id"] for r in features.run(query, connection=fduck).rows)
    want = sorted(
        r[0] for r in fduck.sql(f"SELECT order_id FROM main.orders WHERE {condition}").fetchall()
    )
    assert got == want and want  # every case matches some orders


@pytest.mark.parametrize("value", ["2024-13", "24-05", "May 2024", "2024-05-40"])
def test_bad_date_values_are_named(features: mq.Project, value: str) -> None:
    rule = {
        "id": "r",
        "target": {"fieldId": "orders_order_date"},
        "operator": "equals",
        "values": [value],
    }
    query = mq.MetricQuery.model_validate(
        {"exploreName": "orders", "metrics": ["orders_order_count"],
         "filters": {"dimensions": {"id": "g", "and": [rule]}}}
    )  # fmt: skip
    with pytest.raises(mq.QueryError, match="invalid date value"):
        features.compile(query)
