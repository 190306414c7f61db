"""Oracle tests: timestamps truncated in the query's timezone, across DST changes. Expected
buckets are computed in Python with zoneinfo from the raw UTC timestamps."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
import sqlglot

import metricql as mq
from metricql.dialects import SUPPORTED
from tests.conftest import assert_same_rows
from tests.timezone_project import ZONE, timezone_project

Bucket = Callable[[datetime], Any]
BUCKETS: dict[str, Bucket] = {
    "hour": lambda t: t.replace(minute=0, second=0, microsecond=0),
    "day": lambda t: t.date(),
    "week": lambda t: t.date() - timedelta(days=t.weekday()),
    "month": lambda t: date(t.year, t.month, 1),
}


@pytest.fixture(scope="module")
def zoned(tmp_path_factory: pytest.TempPathFactory) -> mq.Project:
    return timezone_project(tmp_path_factory.mktemp("tz"))


def _local(utc: datetime, zone: str) -> datetime:
    return utc.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def _query(dimension: str, zone: str | None, explore: str = "orders") -> mq.MetricQuery:
    metric = "orders_order_count" if explore == "orders" else "customers_customer_count"
    return mq.MetricQuery(
        explore_name=explore, dimensions=[dimension], metrics=[metric], timezone=zone, limit=None
    )


@pytest.mark.parametrize("grain", sorted(BUCKETS))
def test_buckets_are_local_across_dst(
    zoned: mq.Project, duck: duckdb.DuckDBPyConnection, grain: str
) -> None:
    stamps = [r[0] for r in duck.sql("SELECT ordered_at FROM orders").fetchall()]
    local = [_local(t, ZONE) for t in stamps if t is not None]
    offsets = {(_local(t, ZONE) - t) for t in stamps if t is not None}
    assert offsets == {timedelta(hours=-5), timedelta(hours=-4)}  # both sides of DST
    counts = Counter(BUCKETS[grain](t) for t in local)
    counts[None] = sum(t is None for t in stamps)
    got = zoned.run(_query(f"orders_ordered_at_{grain}", ZONE), connection=duck)
    assert_same_rows(
        got.rows, list(counts.items()), [f"orders_ordered_at_{grain}", "orders_order_count"]
    )
    utc = Counter(BUCKETS[grain](t) for t in stamps if t is not None)
    assert grain == "month" or utc != counts  # the zone moved rows between buckets


def test_the_dst_days_have_their_own_hours(
    zoned: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    """2024-11-03 08:20 UTC is 03:20 EST (after the change), 2024-03-10 14:48 UTC 10:48 EDT."""
    rows = zoned.run(_query("orders_ordered_at_hour", ZONE), connection=duck).rows
    hours = {r["orders_ordered_at_hour"] for r in rows}
    assert datetime(2024, 11, 3, 3) in hours and datetime(2024, 3, 10, 10) in hours
    assert datetime(2024, 11, 3, 8) not in hours  # the UTC hour is not a local one here


def test_off_without_the_project_flag_or_in_utc(project: mq.Project, zoned: mq.Project) -> None:
    plain = project.compile(_query("orders_ordered_at_day", ZONE)).sql
    assert "TIME ZONE" not in plain  # the sample project does not opt in
    in_utc = zoned.compile(_query("orders_ordered_at_day", None)).sql
    assert in_utc == project.compile(_query("orders_ordered_at_day", None)).sql
    assert "TIME ZONE" in zoned.compile(_query("orders_ordered_at_day", ZONE)).sql


def test_convert_timezone_false_keeps_utc_buckets(
    zoned: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    got = zoned.run(_query("customers_created_at_day", ZONE, "customers"), connection=duck)
    want = duck.sql(
        "SELECT created_at::DATE, count(DISTINCT customer_id) FROM customers GROUP BY 1"
    ).fetchall()
    assert_same_rows(got.rows, want, ["customers_created_at_day", "customers_customer_count"])
    assert "TIME ZONE" not in got.sql


def test_dates_and_parts_are_not_converted(zoned: mq.Project) -> None:
    sql = zoned.compile(
        mq.MetricQuery(
            explore_name="orders",
            dimensions=["orders_order_date_month", "orders_order_date_day_of_week_index"],
            timezone=ZONE,
        )
    ).sql
    assert "TIME ZONE" not in sql


@pytest.mark.parametrize("dialect", SUPPORTED)
def test_timezone_buckets_render_in_every_dialect(zoned: mq.Project, dialect: str) -> None:
    sql = zoned.compile(_query("orders_ordered_at_hour", ZONE), dialect=dialect).sql
    assert ZONE in sql
    sqlglot.parse_one(sql, read=dialect)


def test_a_bad_flag_is_a_project_error(tmp_path: Path) -> None:
    timezone_project(tmp_path)
    shop = tmp_path / "shop" / "dbt_project.yml"
    shop.write_text(shop.read_text().replace("timezone_buckets: true", "timezone_buckets: maybe"))
    with pytest.raises(mq.MetricQLError) as err:
        mq.load_project(shop.parent)
    assert "timezone_buckets" in str(err.value) and err.value.hint


def test_an_unknown_zone_is_a_query_error(zoned: mq.Project) -> None:
    with pytest.raises(mq.QueryError, match="unknown timezone"):
        zoned.compile(_query("orders_ordered_at_hour", "Mars/Olympus_Mons"))
