"""Oracle tests for dimension filters on the sample data, hostile values, and bad queries."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
from pydantic import ValidationError

import metricql as mq
from tests.conftest import assert_same_rows


def _filtered(
    project: mq.Project,
    duck: duckdb.DuckDBPyConnection,
    field: str,
    operator: str,
    values: list[Any],
    explore: str = "orders",
    metric: str = "orders_order_count",
) -> list[dict[str, Any]]:
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": explore,
            "dimensions": [],
            "metrics": [metric],
            "limit": None,
            "filters": {
                "dimensions": {
                    "id": "g",
                    "and": [
                        {
                            "id": "r",
                            "target": {"fieldId": field},
                            "operator": operator,
                            "values": values,
                        },
                    ],
                }
            },
        }
    )
    return project.run(query, connection=duck).rows


# (field, operator, values, WHERE clause over main.orders o written by hand)
CASES = [
    ("orders_status", "equals", ["completed", "shipped"], "o.status IN ('completed', 'shipped')"),
    ("orders_status", "notEquals", ["completed"], "o.status <> 'completed' OR o.status IS NULL"),
    ("orders_status", "isNull", [], "o.status IS NULL"),
    ("orders_status", "notNull", [], "o.status IS NOT NULL"),
    ("orders_amount", "equals", [10, 20.5], "o.amount IN (10, 20.5)"),
    ("orders_amount", "notEquals", [10], "o.amount <> 10 OR o.amount IS NULL"),
    ("orders_amount", "lessThan", [25], "o.amount < 25"),
    ("orders_amount", "lessThanOrEqual", [25], "o.amount <= 25"),
    ("orders_amount", "greaterThan", [100], "o.amount > 100"),
    ("orders_amount", "greaterThanOrEqual", [100], "o.amount >= 100"),
    ("orders_amount", "inBetween", [20, 30], "o.amount BETWEEN 20 AND 30"),
    ("orders_amount", "isNull", [], "o.amount IS NULL"),
    ("orders_amount", "notNull", [], "o.amount IS NOT NULL"),
    ("orders_is_gift", "equals", [True], "o.is_gift"),
    ("orders_is_gift", "equals", ["false"], "NOT o.is_gift"),
    ("orders_is_gift", "notEquals", [True], "NOT o.is_gift OR o.is_gift IS NULL"),
    ("orders_is_gift", "isNull", [], "o.is_gift IS NULL"),
    ("orders_is_gift", "notNull", [], "o.is_gift IS NOT NULL"),
    ("orders_order_date", "equals", ["2024-02-29"], "o.order_date = DATE '2024-02-29'"),
    (
        "orders_order_date",
        "notEquals",
        ["2024-02-29"],
        "o.order_date <> DATE '2024-02-29' OR o.order_date IS NULL",
    ),
    ("orders_order_date", "lessThan", ["2023-03-01"], "o.order_date < DATE '2023-03-01'"),
    ("orders_order_date", "lessThanOrEqual", ["2023-03-01"], "o.order_date <= DATE '2023-03-01'"),
    ("orders_order_date", "greaterThan", ["2025-11-30"], "o.order_date > DATE '2025-11-30'"),
    (
        "orders_order_date",
        "greaterThanOrEqual",
        ["2025-11-30"],
        "o.order_date >= DATE '2025-11-30'",
    ),
    (
        "orders_order_date",
        "inBetween",
        ["2024-01-01", "2024-01-31"],
        "o.order_date BETWEEN DATE '2024-01-01' AND DATE '2024-01-31'",
    ),
    ("orders_order_date", "isNull", [], "o.order_date IS NULL"),
    (
        "orders_ordered_at",
        "lessThan",
        ["2023-01-05 12:00:00"],
        "o.ordered_at < TIMESTAMP '2023-01-05 12:00:00'",
    ),
    (
        "orders_ordered_at",
        "greaterThanOrEqual",
        ["2025-12-30T00:00:00Z"],
        "o.ordered_at >= TIMESTAMP '2025-12-30 00:00:00'",
    ),
    (
        "orders_ordered_at",
        "inBetween",
        ["2024-06-01 00:00:00", "2024-06-20 23:59:59"],
        "o.ordered_at BETWEEN TIMESTAMP '2024-06-01' AND TIMESTAMP '2024-06-20 23:59:59'",
    ),
    ("orders_ordered_at", "notNull", [], "o.ordered_at IS NOT NULL"),
    (
        "orders_order_date_month",
        "equals",
        ["2024-03-01"],
        "DATE_TRUNC('month', o.order_date) = DATE '2024-03-01'",
    ),
]


@pytest.mark.parametrize(
    ("field", "operator", "values", "where"),
    CASES,
    ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(CASES)],
)
def test_operator_on_sample_data(
    project: mq.Project,
    duck: duckdb.DuckDBPyConnection,
    field: str,
    operator: str,
    values: list[Any],
    where: str,
) -> None:
    rows = _filtered(project, duck, field, operator, values)
    want = duck.sql(f"SELECT COUNT(o.order_id) FROM main.orders o WHERE {where}").fetchall()
    assert_same_rows(rows, want, ["orders_order_count"])
    assert want[0][0] > 0, "pick a case that matches some rows"


def test_filter_through_joined_table(project: mq.Project, duck: duckdb.DuckDBPyConnection) -> None:
    rows = _filtered(project, duck, "customers_country", "equals", ["Germany"])
    want = duck.sql("""SELECT COUNT(o.order_id) FROM main.orders o
                       LEFT JOIN main.customers c ON o.customer_id = c.customer_id
                       WHERE UPPER(c.country) = 'GERMANY'""").fetchall()  # case-insensitive field
    assert_same_rows(rows, want, ["orders_order_count"])


@pytest.mark.parametrize(
    "hostile",
    ["'); DROP TABLE orders; --", "O'Brien's", "50%", "a%b_c", "naïve"],
)
def test_hostile_values_round_trip_as_literals(
    project: mq.Project, duck: duckdb.DuckDBPyConnection, hostile: str
) -> None:
    rows = _filtered(project, duck, "orders_discount_code", "equals", [hostile])
    want = duck.execute(
        "SELECT COUNT(order_id) FROM main.orders WHERE discount_code = ?", [hostile]
    ).fetchall()
    assert_same_rows(rows, want, ["orders_order_count"])
    assert want[0][0] > 0
    assert duck.sql("SELECT COUNT(*) FROM main.orders").fetchall() == [(2000,)]


def test_hostile_value_never_matches_by_wildcard(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    # '%' must not act as a wildcard in equals: only the literal code '50%' matches.
    rows = _filtered(project, duck, "orders_discount_code", "equals", ["%"])
    assert rows == [{"orders_order_count": 0}]


def test_nested_and_or_groups(project: mq.Project, duck: duckdb.DuckDBPyConnection) -> None:
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "metrics": ["orders_order_count"],
            "limit": None,
            "filters": {
                "dimensions": {
                    "id": "g",
                    "and": [
                        {
                            "id": "o1",
                            "or": [
                                {
                                    "id": "a",
                                    "target": {"fieldId": "orders_status"},
                                    "operator": "equals",
                                    "values": ["returned"],
                                },
                                {
                                    "id": "b",
                                    "target": {"fieldId": "orders_amount"},
                                    "operator": "greaterThan",
                                    "values": [150],
                                },
                            ],
                        },
                        {"id": "c", "target": {"fieldId": "orders_is_gift"}, "operator": "notNull"},
                    ],
                }
            },
        }
    )
    rows = project.run(query, connection=duck).rows
    want = duck.sql("""
        SELECT COUNT(order_id) FROM main.orders
        WHERE (status = 'returned' OR amount > 150) AND is_gift IS NOT NULL""").fetchall()
    assert_same_rows(rows, want, ["orders_order_count"])


def test_metric_filter_keeps_filter_only_metric_out_of_result(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "dimensions": ["orders_status"],
            "metrics": ["orders_total_revenue"],
            "limit": None,
            "filters": {
                "metrics": {
                    "id": "g",
                    "and": [
                        {
                            "id": "m",
                            "target": {"fieldId": "orders_order_count"},
                            "operator": "greaterThan",
                            "values": [200],
                        },
                    ],
                }
            },
        }
    )
    result = project.run(query, connection=duck)
    assert [f.id for f in result.fields] == ["orders_status", "orders_total_revenue"]
    assert set(result.rows[0]) == {"orders_status", "orders_total_revenue"}
    want = duck.sql("""SELECT status, SUM(amount) FROM main.orders GROUP BY status
                       HAVING COUNT(order_id) > 200""").fetchall()
    assert_same_rows(result.rows, want, ["orders_status", "orders_total_revenue"])


# ---- bad input: each raises a specific MetricQLError naming the culprit ----


def test_unknown_explore(project: mq.Project) -> None:
    with pytest.raises(mq.UnknownExploreError, match="'ordres'") as err:
        project.compile(mq.MetricQuery(explore_name="ordres", metrics=["orders_order_count"]))
    assert "did you mean 'orders'" in (err.value.hint or "")


@pytest.mark.parametrize(
    ("kwargs", "culprit", "suggestion"),
    [
        ({"dimensions": ["orders_stauts"]}, "orders_stauts", "orders_status"),
        ({"metrics": ["orders_total_revenu"]}, "orders_total_revenu", "orders_total_revenue"),
        ({"metrics": ["orders_status"]}, "orders_status", None),  # a dimension, not a metric
        (
            {"sorts": [{"field_id": "orders_status"}], "metrics": ["orders_order_count"]},
            "orders_status",
            None,
        ),  # sorting by a field that is not selected
    ],
)
def test_unknown_or_misused_field(
    project: mq.Project, kwargs: dict[str, Any], culprit: str, suggestion: str | None
) -> None:
    with pytest.raises(mq.QueryError, match=culprit) as err:
        project.compile(mq.MetricQuery(explore_name="orders", **kwargs))
    if suggestion:
        assert suggestion in (err.value.hint or "")


def test_unknown_filter_field(project: mq.Project) -> None:
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "metrics": ["orders_order_count"],
            "filters": {
                "dimensions": {
                    "id": "g",
                    "and": [
                        {
                            "id": "r",
                            "target": {"fieldId": "orders_colour"},
                            "operator": "equals",
                            "values": ["red"],
                        }
                    ],
                }
            },
        }
    )
    with pytest.raises(mq.UnknownFieldError, match="orders_colour"):
        project.compile(query)


@pytest.mark.parametrize(
    ("field", "operator", "values"),
    [
        ("orders_amount", "startsWith", ["1"]),  # string operator on a number
        ("orders_is_gift", "greaterThan", [True]),  # ordering on a boolean
        ("orders_amount", "equals", ["1) OR 1=1"]),  # not a number
        ("orders_order_date", "equals", ["yesterday-ish"]),  # not a date
    ],
)
def test_operator_or_value_invalid_for_type(
    project: mq.Project, field: str, operator: str, values: list[Any]
) -> None:
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "metrics": ["orders_order_count"],
            "filters": {
                "dimensions": {
                    "id": "g",
                    "and": [
                        {
                            "id": "r",
                            "target": {"fieldId": field},
                            "operator": operator,
                            "values": values,
                        }
                    ],
                }
            },
        }
    )
    with pytest.raises(mq.QueryError, match=field):
        project.compile(query)


def test_malformed_query_json_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        mq.MetricQuery.model_validate({"exploreName": "orders", "limit": "lots"})
    with pytest.raises(ValidationError):
        mq.MetricQuery.model_validate({"dimensions": ["x"]})  # no explore
