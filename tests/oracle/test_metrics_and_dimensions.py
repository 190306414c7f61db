"""Oracle tests: compiled queries on DuckDB equal hand-written SQL over the seed tables."""

from __future__ import annotations

import duckdb
import pytest

import metricql as mq
from tests.conftest import assert_same_rows


def _run(project: mq.Project, duck: duckdb.DuckDBPyConnection, **kw: object) -> mq.QueryResult:
    return project.run(mq.MetricQuery(**kw), connection=duck)  # type: ignore[arg-type]


# metric id → hand-written aggregate over main.orders o
ORDERS_METRICS = {
    "orders_order_count": "COUNT(o.order_id)",
    "orders_unique_customer_count": "COUNT(DISTINCT o.customer_id)",
    "orders_total_revenue": "SUM(o.amount)",
    "orders_average_amount": "AVG(o.amount)",
    "orders_min_amount": "MIN(o.amount)",
    "orders_max_amount": "MAX(o.amount)",
    "orders_p90_amount": "QUANTILE_CONT(o.amount, 0.9)",
    "orders_median_amount": "MEDIAN(o.amount)",
    "orders_completed_revenue": "SUM(CASE WHEN o.status = 'completed' THEN o.amount END)",
    "orders_returned_count": "COUNT(CASE WHEN o.status = 'returned' THEN o.order_id END)",
    "orders_average_order_value": "SUM(o.amount) / NULLIF(COUNT(o.order_id), 0)",
    "orders_average_order_value_rounded": "ROUND(SUM(o.amount) / NULLIF(COUNT(o.order_id), 0), 0)",
    "orders_return_rate": "1.0 * COUNT(CASE WHEN o.status = 'returned' THEN 1 END) "
    "/ NULLIF(COUNT(o.order_id), 0)",
    "orders_first_order_date": "MIN(o.order_date)",
    "orders_last_ordered_at": "MAX(o.ordered_at)",
    "orders_order_volume_band": "CASE WHEN COUNT(o.order_id) >= 100 THEN 'high' "
    "WHEN COUNT(o.order_id) >= 20 THEN 'medium' ELSE 'low' END",
    "orders_has_returns": "COUNT(CASE WHEN o.status = 'returned' THEN 1 END) > 0",
}


@pytest.mark.parametrize("metric", sorted(ORDERS_METRICS))
def test_every_metric_type_grouped_by_status(
    project: mq.Project, duck: duckdb.DuckDBPyConnection, metric: str
) -> None:
    result = _run(
        project,
        duck,
        explore_name="orders",
        dimensions=["orders_status"],
        metrics=[metric],
        limit=None,
    )
    want = duck.sql(
        f"SELECT o.status, {ORDERS_METRICS[metric]} FROM main.orders o GROUP BY o.status"
    ).fetchall()
    assert_same_rows(result.rows, want, ["orders_status", metric])


def test_all_metrics_without_dimensions(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    metrics = sorted(ORDERS_METRICS)
    result = _run(project, duck, explore_name="orders", metrics=metrics)
    want = duck.sql(
        f"SELECT {', '.join(ORDERS_METRICS[m] for m in metrics)} FROM main.orders o"
    ).fetchall()
    assert_same_rows(result.rows, want, metrics)
    assert "ORDER BY" not in result.sql  # metrics only: no default sort


def test_customer_metrics_with_boolean_filter_and_ratio(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    metrics = [
        "customers_customer_count",
        "customers_vip_customer_count",
        "customers_vip_share",
        "customers_average_lifetime_score",
        "customers_median_lifetime_score",
        "customers_max_lifetime_score",
        "customers_first_signup_date",
    ]
    result = _run(
        project,
        duck,
        explore_name="customers",
        dimensions=["customers_country"],
        metrics=metrics,
        limit=None,
    )
    want = duck.sql("""
        SELECT country, COUNT(DISTINCT customer_id),
               COUNT(DISTINCT CASE WHEN is_vip THEN customer_id END),
               1.0 * COUNT(DISTINCT CASE WHEN is_vip THEN customer_id END)
                   / NULLIF(COUNT(DISTINCT customer_id), 0),
               AVG(lifetime_score), MEDIAN(lifetime_score), MAX(lifetime_score), MIN(signup_date)
        FROM main.customers GROUP BY country
    """).fetchall()
    assert_same_rows(result.rows, want, ["customers_country", *metrics])


# interval → DuckDB expression over column c, written independently of the compiler.
DATE_INTERVALS = {
    "day": "c",
    "week": "CAST(DATE_TRUNC('week', c) AS DATE)",
    "month": "CAST(DATE_TRUNC('month', c) AS DATE)",
    "quarter": "CAST(DATE_TRUNC('quarter', c) AS DATE)",
    "year": "CAST(DATE_TRUNC('year', c) AS DATE)",
    "day_of_week_index": "DAYOFWEEK(c)",
    "day_of_month_num": "DAYOFMONTH(c)",
    "day_of_year_num": "DAYOFYEAR(c)",
    "week_num": "WEEKOFYEAR(c)",
    "month_num": "MONTH(c)",
    "quarter_num": "QUARTER(c)",
    "year_num": "YEAR(c)",
    "day_of_week_name": "DAYNAME(c)",
    "month_name": "MONTHNAME(c)",
    "quarter_name": "'Q' || QUARTER(c)",
}
TIMESTAMP_INTERVALS = {
    "raw": "c",
    "hour": "DATE_TRUNC('hour', c)",
    "minute": "DATE_TRUNC('minute', c)",
    "second": "DATE_TRUNC('second', c)",
    "millisecond": "DATE_TRUNC('millisecond', c)",
    "hour_of_day_num": "HOUR(c)",
    "minute_of_hour_num": "MINUTE(c)",
    "day": "CAST(c AS DATE)",
}


@pytest.mark.parametrize("interval", sorted(DATE_INTERVALS))
def test_every_date_interval(
    project: mq.Project, duck: duckdb.DuckDBPyConnection, interval: str
) -> None:
    dim = f"orders_order_date_{interval}"
    result = _run(
        project,
        duck,
        explore_name="orders",
        dimensions=[dim],
        metrics=["orders_order_count"],
        limit=None,
    )
    want = duck.sql(
        f"SELECT {DATE_INTERVALS[interval]} AS d, COUNT(order_id) "
        "FROM (SELECT order_date AS c, order_id FROM main.orders) GROUP BY d"
    ).fetchall()
    assert_same_rows(result.rows, want, [dim, "orders_order_count"])


@pytest.mark.parametrize("interval", sorted(TIMESTAMP_INTERVALS))
def test_every_timestamp_interval(
    project: mq.Project, duck: duckdb.DuckDBPyConnection, interval: str
) -> None:
    dim = f"payments_created_at_{interval}"
    result = _run(
        project,
        duck,
        explore_name="payments",
        dimensions=[dim],
        metrics=["payments_payment_count"],
        limit=None,
    )
    want = duck.sql(
        f"SELECT {TIMESTAMP_INTERVALS[interval]} AS d, COUNT(payment_id) "
        "FROM (SELECT created_at AS c, payment_id FROM main.payments WHERE amount > 0) GROUP BY d"
    ).fetchall()
    assert_same_rows(result.rows, want, [dim, "payments_payment_count"])


def test_join_through_intermediate_table_and_alias(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    # referrer is joined via customers: selecting it alone must bring customers in too.
    result = _run(
        project,
        duck,
        explore_name="orders",
        dimensions=["referrer_country"],
        metrics=["orders_order_count", "orders_total_revenue"],
        limit=None,
    )
    want = duck.sql("""
        SELECT r.country, COUNT(o.order_id), SUM(o.amount)
        FROM main.orders o
        LEFT JOIN main.customers c ON o.customer_id = c.customer_id
        LEFT JOIN main.customers r ON c.referrer_id = r.customer_id
        GROUP BY r.country
    """).fetchall()
    assert_same_rows(
        result.rows, want, ["referrer_country", "orders_order_count", "orders_total_revenue"]
    )
    assert "payments" not in result.sql  # only the joins the query needs


def test_inner_join_and_sql_filter(project: mq.Project, duck: duckdb.DuckDBPyConnection) -> None:
    result = _run(
        project,
        duck,
        explore_name="payments",
        dimensions=["orders_status"],
        metrics=["payments_total_amount", "payments_payment_count"],
        limit=None,
    )
    want = duck.sql("""
        SELECT o.status, SUM(p.amount), COUNT(p.payment_id)
        FROM main.payments p INNER JOIN main.orders o ON p.order_id = o.order_id
        WHERE p.amount > 0 GROUP BY o.status
    """).fetchall()
    assert_same_rows(
        result.rows, want, ["orders_status", "payments_total_amount", "payments_payment_count"]
    )


def test_dimension_referencing_joined_table(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    result = _run(
        project, duck, explore_name="orders", dimensions=["orders_order_country"], limit=None
    )
    want = duck.sql("""
        SELECT DISTINCT c.country FROM main.orders o
        LEFT JOIN main.customers c ON o.customer_id = c.customer_id
    """).fetchall()
    assert_same_rows(result.rows, want, ["orders_order_country"])


def test_explicit_sorts_with_nulls_first_and_limit(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    result = _run(
        project,
        duck,
        explore_name="orders",
        dimensions=["orders_status", "orders_is_gift"],
        metrics=["orders_total_revenue"],
        sorts=[
            {"field_id": "orders_is_gift", "descending": True, "nulls_first": True},
            {"field_id": "orders_total_revenue", "descending": False},
        ],
        limit=7,
    )
    want = duck.sql("""
        SELECT status, is_gift, SUM(amount) AS r FROM main.orders GROUP BY 1, 2
        ORDER BY is_gift DESC NULLS FIRST, r ASC NULLS LAST LIMIT 7
    """).fetchall()
    assert_same_rows(
        result.rows, want, ["orders_status", "orders_is_gift", "orders_total_revenue"], ordered=True
    )


@pytest.mark.parametrize(
    ("dimensions", "metrics", "sort_key", "descending"),
    [
        # a date dimension anywhere → it, descending
        (
            ["orders_status", "orders_order_date_month"],
            ["orders_order_count"],
            "orders_order_date_month",
            True,
        ),
        # no date dimension → first metric descending
        (
            ["orders_status"],
            ["orders_total_revenue", "orders_order_count"],
            "orders_total_revenue",
            True,
        ),
        # dimensions only → first dimension ascending
        (["orders_status"], [], "orders_status", False),
    ],
)
def test_default_sort(
    project: mq.Project,
    duck: duckdb.DuckDBPyConnection,
    dimensions: list[str],
    metrics: list[str],
    sort_key: str,
    descending: bool,
) -> None:
    result = _run(
        project, duck, explore_name="orders", dimensions=dimensions, metrics=metrics, limit=None
    )
    cols = {
        "orders_status": "status",
        "orders_order_date_month": "CAST(DATE_TRUNC('month', order_date) AS DATE)",
        "orders_total_revenue": "SUM(amount)",
        "orders_order_count": "COUNT(order_id)",
    }
    select = ", ".join(cols[c] for c in [*dimensions, *metrics])
    group = ", ".join(str(i + 1) for i in range(len(dimensions)))
    want = duck.sql(f"SELECT {select} FROM main.orders GROUP BY {group}").fetchall()
    assert_same_rows(result.rows, want, [*dimensions, *metrics])
    # The sort key column comes back in sorted order (NULLs last); ties may come in any order.
    keys = [r[sort_key] for r in result.rows]
    present = [k for k in keys if k is not None]
    assert present == sorted(present, reverse=descending)
    assert keys[len(present) :] == [None] * (len(keys) - len(present))


def test_limit(project: mq.Project, duck: duckdb.DuckDBPyConnection) -> None:
    result = _run(project, duck, explore_name="orders", dimensions=["orders_order_id"], limit=13)
    assert len(result.rows) == 13
    assert [r["orders_order_id"] for r in result.rows] == list(range(1, 14))


def test_result_fields_metadata(project: mq.Project, duck: duckdb.DuckDBPyConnection) -> None:
    result = _run(
        project,
        duck,
        explore_name="orders",
        dimensions=["orders_order_date_month"],
        metrics=["orders_total_revenue"],
    )
    assert [(f.id, f.type, f.kind.value) for f in result.fields] == [
        ("orders_order_date_month", "date", "dimension"),
        ("orders_total_revenue", "number", "metric"),
    ]
    assert result.fields[0].label == "Order date month"
