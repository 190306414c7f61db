"""Period-over-period metrics (issue 10, item 3): the base metric's value for the same row with
its period shifted back; right with gaps in the data and under filters (not a LAG)."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

import metricql as mq
from tests.conftest import assert_same_rows
from tests.lightdash_features.conftest import FEATURES

MONTH = "orders_order_date_month"


def _pop(name: str, granularity: str, offset: int = 1, time: str = MONTH) -> dict[str, Any]:
    return {
        "table": "orders",
        "name": name,
        "type": "sum",
        "sql": "${TABLE}.amount",
        "generationType": "periodOverPeriod",
        "baseMetricId": "orders_total_revenue",
        "timeDimensionId": time,
        "granularity": granularity,
        "periodOffset": offset,
    }


def _query(**body: Any) -> mq.MetricQuery:
    return mq.MetricQuery.model_validate({"exploreName": "orders", "limit": 500, **body})


MONTHLY = """
    WITH m AS (SELECT CAST(date_trunc('month', order_date) AS DATE) AS month {dims},
                      SUM(amount) AS revenue
               FROM main.orders o {join} {where} GROUP BY ALL)
    SELECT cur.month {cur_dims}, cur.revenue, prev.revenue
    FROM m cur LEFT JOIN (SELECT * FROM m) prev
      ON prev.month = cur.month - INTERVAL {shift} {on}
    {having}
"""


def _oracle(conn: duckdb.DuckDBPyConnection, shift: str, **parts: str) -> list[tuple[Any, ...]]:
    sql = MONTHLY.format(
        shift=shift,
        dims=parts.get("dims", ""),
        join=parts.get("join", ""),
        where=parts.get("where", ""),
        cur_dims=parts.get("cur_dims", ""),
        on=parts.get("on", ""),
        having=parts.get("having", ""),
    )
    return conn.sql(sql).fetchall()


def test_same_month_last_year(features: mq.Project, fduck: duckdb.DuckDBPyConnection) -> None:
    query = _query(
        dimensions=[MONTH],
        metrics=["orders_total_revenue", "orders_last_year"],
        additionalMetrics=[_pop("last_year", "YEAR")],
    )
    got = features.run(query, connection=fduck).rows
    want = _oracle(fduck, "1 YEAR")
    assert_same_rows(got, want, [MONTH, "orders_total_revenue", "orders_last_year"])
    assert sum(r["orders_last_year"] is not None for r in got) == 4  # 2025 has 4 months


def test_gaps_give_null_not_the_row_before(
    features: mq.Project, fduck: duckdb.DuckDBPyConnection
) -> None:
    query = _query(
        dimensions=[MONTH],
        metrics=["orders_total_revenue", "orders_last_month"],
        additionalMetrics=[_pop("last_month", "MONTH")],
    )
    got = {
        r[MONTH].isoformat(): r["orders_last_month"]
        for r in features.run(query, connection=fduck).rows
    }
    want = _oracle(fduck, "1 MONTH")
    assert got == {m.isoformat(): p for m, _, p in want}
    # April 2024 follows a month without orders: NULL, where a LAG would give February's 7.25.
    assert got["2024-04-01"] is None and got["2024-05-01"] == pytest.approx(52.0)


def test_under_filters_reads_the_periods_the_filter_excludes(
    features: mq.Project, fduck: duckdb.DuckDBPyConnection
) -> None:
    rules = [
        {"id": "a", "target": {"fieldId": "orders_order_date_year"}, "operator": "equals",
         "values": ["2025-01-01"]},
        {"id": "b", "target": {"fieldId": "orders_status"}, "operator": "equals",
         "values": ["completed"]},
    ]  # fmt: skip
    query = _query(
        dimensions=[MONTH, "orders_status"],
        metrics=["orders_total_revenue", "orders_two_years_ago"],
        additionalMetrics=[_pop("two_years_ago", "MONTH", offset=12)],
        filters={"dimensions": {"id": "g", "and": rules}},
    )
    got = features.run(query, connection=fduck).rows
    want = fduck.sql(
        """WITH m AS (SELECT CAST(date_trunc('month', order_date) AS DATE) AS month, status,
                             SUM(amount) AS revenue
                      FROM main.orders WHERE status = 'completed' GROUP BY ALL)
           SELECT cur.month, cur.status, cur.revenue, prev.revenue
           FROM m cur LEFT JOIN m prev
             ON prev.month = cur.month - INTERVAL 12 MONTH AND prev.status = cur.status
           WHERE year(cur.month) = 2025"""
    ).fetchall()
    ids = [MONTH, "orders_status", "orders_total_revenue", "orders_two_years_ago"]
    assert_same_rows(got, want, ids)
    assert any(r["orders_two_years_ago"] is not None for r in got)


def test_sorted_by_the_comparison_with_a_limit(
    features: mq.Project, fduck: duckdb.DuckDBPyConnection
) -> None:
    query = _query(
        dimensions=[MONTH],
        metrics=["orders_last_year"],
        additionalMetrics=[_pop("last_year", "YEAR")],
        sorts=[{"fieldId": "orders_last_year", "descending": True, "nullsFirst": False}],
        limit=2,
    )
    got = [
        (r[MONTH].isoformat(), r["orders_last_year"])
        for r in features.run(query, connection=fduck).rows
    ]
    assert got == [("2025-04-01", pytest.approx(52.0)), ("2025-01-01", pytest.approx(35.5))]
    assert [f.id for f in features.compile(query).fields] == [
        MONTH,
        "orders_total_revenue",
        "orders_last_year",
    ]


def test_the_comparison_dimension_must_be_selected(features: mq.Project) -> None:
    query = _query(
        dimensions=["orders_status"],
        metrics=["orders_last_year"],
        additionalMetrics=[_pop("last_year", "YEAR")],
    )
    with pytest.raises(
        mq.QueryError,
        match=f'Period comparison time dimension "{MONTH}" must be selected in the query',
    ):
        features.compile(query)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"baseMetricId": "orders_nope"}, mq.UnknownFieldError, "not a metric"),
        ({"granularity": "FORTNIGHT"}, mq.QueryError, "granularity 'FORTNIGHT'"),
        ({"periodOffset": 0}, mq.QueryError, "periodOffset of at least 1"),
    ],
)
def test_bad_definitions_are_named(
    features: mq.Project, change: dict[str, Any], error: type[Exception], message: str
) -> None:
    query = _query(
        dimensions=[MONTH],
        metrics=["orders_x"],
        additionalMetrics=[{**_pop("x", "YEAR"), **change}],
    )
    with pytest.raises(error, match=message):
        features.compile(query)


def test_the_sample_chart_runs_as_saved(
    features: mq.Project, fduck: duckdb.DuckDBPyConnection
) -> None:
    assert features.validate_content(FEATURES / "lightdash") == []
    from metricql.project.content import load_content

    (chart,) = load_content(FEATURES / "lightdash").charts
    rows = features.run(chart.query(), connection=fduck).rows
    want = _oracle(fduck, "1 YEAR")
    assert_same_rows(rows, want, [MONTH, "orders_total_revenue", "orders_revenue_last_year"])
