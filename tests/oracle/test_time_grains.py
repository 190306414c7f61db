"""Oracle tests: query-time synthesised intervals and date zoom (SPEC §3.3)."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
import sqlglot

import metricql as mq
from metricql.dialects import SUPPORTED
from tests.conftest import assert_same_rows


def _query(**body: Any) -> mq.MetricQuery:
    return mq.MetricQuery.model_validate({"exploreName": "orders", "limit": None, **body})


def _run(project: mq.Project, duck: duckdb.DuckDBPyConnection, **body: Any) -> mq.QueryResult:
    return project.run(_query(**body), connection=duck)


def _equals(field_id: str, value: str) -> dict[str, Any]:
    rule = {"id": "r", "target": {"fieldId": field_id}, "operator": "equals", "values": [value]}
    return {"dimensions": {"id": "f", "and": [rule]}}


# ---- synthesised <base>_<grain> ----


def test_hour_of_a_timestamp_the_yaml_did_not_list(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    assert "orders_ordered_at_hour" not in project.explore("orders").dimensions
    got = _run(project, duck, dimensions=["orders_ordered_at_hour"], metrics=["orders_order_count"])
    want = duck.sql(
        "SELECT date_trunc('hour', ordered_at), count(order_id) FROM orders GROUP BY 1"
    ).fetchall()
    assert len(want) > 100
    assert_same_rows(got.rows, want, ["orders_ordered_at_hour", "orders_order_count"])
    assert (got.fields[0].type, got.fields[0].time_interval) == ("timestamp", "HOUR")


def test_month_of_a_date_whose_intervals_are_off_and_filtered(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    """customers.signup_date has time_intervals OFF; its month is synthesised, also in filters."""
    got = _run(
        project,
        duck,
        exploreName="customers",
        dimensions=["customers_signup_date_month"],
        metrics=["customers_customer_count"],
        filters=_equals("customers_signup_date_quarter", "2023-04-01"),
    )
    want = duck.sql(
        """SELECT date_trunc('month', signup_date)::DATE, count(DISTINCT customer_id)
           FROM customers WHERE date_trunc('quarter', signup_date)::DATE = DATE '2023-04-01'
           GROUP BY 1"""
    ).fetchall()
    assert len(want) == 3
    assert_same_rows(got.rows, want, ["customers_signup_date_month", "customers_customer_count"])


def test_synthesised_interval_has_the_type_and_interval_of_a_yaml_one(
    project: mq.Project,
) -> None:
    compiled = project.compile(
        _query(dimensions=["orders_ordered_at_minute", "orders_ordered_at_year"])
    )
    listed = project.explore("orders").dimensions["orders_ordered_at_year"]
    minute, year = compiled.fields
    assert (minute.type, minute.time_interval) == ("timestamp", "MINUTE")
    assert (year.type, year.time_interval, year.label) == ("date", "YEAR", listed.label)


@pytest.mark.parametrize(
    "field_id",
    [
        "orders_ordered_at_fortnight",  # not a grain
        "orders_status_month",  # not a time base
        "orders_order_date_month_year",  # the base is itself an interval
        "orders_nothing_month",  # no such base
    ],
)
def test_anything_else_is_still_an_unknown_field(project: mq.Project, field_id: str) -> None:
    with pytest.raises(mq.UnknownFieldError) as err:
        project.compile(_query(dimensions=[field_id]))
    assert err.value.code == "unknown_field"


# ---- date zoom ----


def test_zoom_a_date_dimension_to_month_keeps_its_id(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    got = _run(
        project,
        duck,
        dimensions=["orders_order_date_day", "orders_status"],
        metrics=["orders_total_revenue"],
        dateZoom={"granularity": "Month"},
    )
    want = duck.sql(
        """SELECT date_trunc('month', order_date)::DATE, status, sum(amount)
           FROM orders GROUP BY 1, 2"""
    ).fetchall()
    assert_same_rows(
        got.rows, want, ["orders_order_date_day", "orders_status", "orders_total_revenue"]
    )
    assert (got.fields[0].time_interval, got.fields[0].type) == ("MONTH", "date")


def test_zoom_a_timestamp_dimension_to_hour_by_x_axis_field(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    got = _run(
        project,
        duck,
        dimensions=["orders_order_date_week", "orders_ordered_at_day"],
        metrics=["orders_order_count"],
        dateZoom={"granularity": "hour", "xAxisFieldId": "orders_ordered_at_day"},
    )
    want = duck.sql(
        """SELECT date_trunc('week', order_date)::DATE, date_trunc('hour', ordered_at),
                  count(order_id) FROM orders GROUP BY 1, 2"""
    ).fetchall()
    assert_same_rows(
        got.rows, want, ["orders_order_date_week", "orders_ordered_at_day", "orders_order_count"]
    )


def test_sub_day_zoom_on_a_date_base_is_ignored(project: mq.Project) -> None:
    plain = _query(dimensions=["orders_order_date_day"], metrics=["orders_order_count"])
    zoomed = _query(
        dimensions=["orders_order_date_day"],
        metrics=["orders_order_count"],
        dateZoom={"granularity": "Hour"},
    )
    assert project.compile(zoomed).sql == project.compile(plain).sql


def test_zoom_filters_still_compare_the_original_expression(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    """A filter on the zoomed day keeps filtering days: the month bucket counts one day."""
    got = _run(
        project,
        duck,
        dimensions=["orders_order_date_day"],
        metrics=["orders_order_count"],
        dateZoom={"granularity": "Year"},
        filters=_equals("orders_order_date_day", "2023-01-02"),
    )
    want = duck.sql(
        """SELECT date_trunc('year', order_date)::DATE, count(order_id) FROM orders
           WHERE order_date = DATE '2023-01-02' GROUP BY 1"""
    ).fetchall()
    assert want[0][1] >= 1
    assert_same_rows(got.rows, want, ["orders_order_date_day", "orders_order_count"])


def test_zoom_without_a_date_dimension_changes_nothing(project: mq.Project) -> None:
    plain = _query(dimensions=["orders_status"], metrics=["orders_order_count"])
    zoomed = _query(
        dimensions=["orders_status"],
        metrics=["orders_order_count"],
        dateZoom={"granularity": "Week"},
    )
    assert project.compile(zoomed).sql == project.compile(plain).sql


@pytest.mark.parametrize(
    ("zoom", "field"),
    [
        ({"granularity": "Fortnight"}, "dateZoom.granularity"),
        (
            {"granularity": "Month", "xAxisFieldId": "orders_ordered_at_day"},
            "orders_ordered_at_day",
        ),
        ({"granularity": "Month", "xAxisFieldId": "orders_status"}, "orders_status"),
    ],
)
def test_bad_zooms_are_named_query_errors(
    project: mq.Project, zoom: dict[str, Any], field: str
) -> None:
    query = _query(dimensions=["orders_order_date_day", "orders_status"], dateZoom=zoom)
    with pytest.raises(mq.QueryError) as err:
        project.compile(query)
    assert err.value.context.get("field") == field
    assert err.value.hint


@pytest.mark.parametrize("dialect", SUPPORTED)
def test_zoom_and_synthesis_render_in_every_dialect(project: mq.Project, dialect: str) -> None:
    query = _query(
        dimensions=["orders_order_date_day", "orders_ordered_at_minute"],
        metrics=["orders_order_count"],
        dateZoom={"granularity": "Quarter", "xAxisFieldId": "orders_order_date_day"},
    )
    sql = project.compile(query, dialect=dialect).sql
    sqlglot.parse_one(sql, read=dialect)
    assert "orders_order_date_day" in sql
