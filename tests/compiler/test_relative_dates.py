"""Calendar math of relative date filters, date literals, and period positions (DuckDB oracle)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
from sqlglot import exp, parse_one

from metricql.compiler.sql.relative_dates import (
    PERIOD_UNITS,
    Window,
    current_window,
    date_literal,
    days_into_period,
    days_into_period_sql,
    next_window,
    parse_when,
    past_window,
    shift,
    start_of,
)
from metricql.query.model import UnitOfTime as U
from metricql.semantic.fields import DimensionType

UTC = timezone.utc
NY = ZoneInfo("America/New_York")
NOW = datetime(2020, 4, 4, 6, 12, 30, 123456, tzinfo=UTC)  # a Saturday


def at(*parts: int, tz: Any = UTC) -> datetime:
    return datetime(*parts, tzinfo=tz)  # type: ignore[misc]


START_OF = [
    (U.MILLISECONDS, 0, at(2020, 4, 4, 6, 12, 30, 123000)),
    (U.SECONDS, 0, at(2020, 4, 4, 6, 12, 30)),
    (U.MINUTES, 0, at(2020, 4, 4, 6, 12)),
    (U.HOURS, 0, at(2020, 4, 4, 6)),
    (U.DAYS, 0, at(2020, 4, 4)),
    (U.WEEKS, 0, at(2020, 3, 30)),  # Monday
    (U.WEEKS, 5, at(2020, 4, 4)),  # Saturday is the first day itself
    (U.WEEKS, 6, at(2020, 3, 29)),  # Sunday
    (U.MONTHS, 0, at(2020, 4, 1)),
    (U.QUARTERS, 0, at(2020, 4, 1)),
    (U.YEARS, 0, at(2020, 1, 1)),
]


@pytest.mark.parametrize(("unit", "week_start", "want"), START_OF)
def test_start_of(unit: U, week_start: int, want: datetime) -> None:
    assert start_of(NOW, unit, week_start) == want


SHIFTS = [
    (at(2020, 3, 31), U.MONTHS, -1, at(2020, 2, 29)),  # month ends clamp
    (at(2020, 2, 29), U.YEARS, 1, at(2021, 2, 28)),
    (at(2020, 1, 31), U.QUARTERS, 1, at(2020, 4, 30)),
    (at(2020, 11, 15), U.MONTHS, 3, at(2021, 2, 15)),
    (at(2020, 1, 15), U.MONTHS, -13, at(2018, 12, 15)),
    (at(2020, 4, 4), U.WEEKS, -2, at(2020, 3, 21)),
    (NOW, U.MILLISECONDS, -500, at(2020, 4, 4, 6, 12, 29, 623456)),
    (NOW, U.SECONDS, 30, at(2020, 4, 4, 6, 13, 0, 123456)),
    # New York springs forward at 2020-03-08 02:00: hours are absolute, days keep the clock
    (at(2020, 3, 8, 1, 30, tz=NY), U.HOURS, 1, at(2020, 3, 8, 3, 30, tz=NY)),
    (at(2020, 3, 7, 12, tz=NY), U.DAYS, 1, at(2020, 3, 8, 12, tz=NY)),
]


@pytest.mark.parametrize(("moment", "unit", "count", "want"), SHIFTS)
def test_shift(moment: datetime, unit: U, count: int, want: datetime) -> None:
    shifted = shift(moment, unit, count)
    assert shifted == want
    assert shifted.replace(tzinfo=None) == want.replace(tzinfo=None)  # same wall clock too


def elapsed(start: datetime, end: datetime) -> timedelta:
    """Absolute time between two moments (Python subtracts wall clocks within one zone)."""
    return end.astimezone(UTC) - start.astimezone(UTC)


def test_days_shift_keeps_the_wall_clock_across_daylight_saving() -> None:
    before = at(2020, 3, 7, 12, tz=NY)
    assert elapsed(before, shift(before, U.DAYS, 1)) == timedelta(hours=23)
    assert elapsed(before, shift(before, U.HOURS, 24)) == timedelta(hours=24)


WINDOWS = [
    (past_window(NOW, U.DAYS, 3, False), Window(at(2020, 4, 1, 6, 12, 30, 123456), NOW, True)),
    (past_window(NOW, U.MONTHS, 2, True), Window(at(2020, 2, 1), at(2020, 4, 1), False)),
    (past_window(NOW, U.WEEKS, 1, True, 6), Window(at(2020, 3, 22), at(2020, 3, 29), False)),
    (past_window(NOW, U.DAYS, 0, True), Window(at(2020, 4, 4), at(2020, 4, 4), False)),
    (next_window(NOW, U.HOURS, 2, False), Window(NOW, at(2020, 4, 4, 8, 12, 30, 123456), True)),
    (next_window(NOW, U.YEARS, 1, True), Window(at(2021, 1, 1), at(2022, 1, 1), False)),
    (current_window(NOW, U.MONTHS),
     Window(at(2020, 4, 1), at(2020, 4, 30, 23, 59, 59, 999999), True)),
    (current_window(NOW, U.MINUTES),
     Window(at(2020, 4, 4, 6, 12), at(2020, 4, 4, 6, 12, 59, 999999), True)),
    (current_window(NOW.astimezone(NY), U.DAYS),
     Window(at(2020, 4, 4, 4), at(2020, 4, 5, 3, 59, 59, 999999), True)),
]  # fmt: skip


@pytest.mark.parametrize(("got", "want"), WINDOWS)
def test_windows(got: Window, want: Window) -> None:
    assert (got.start, got.end, got.end_inclusive) == (want.start, want.end, want.end_inclusive)


def test_current_window_of_a_short_day_is_23_hours() -> None:
    window = current_window(at(2020, 3, 8, 12, tz=NY), U.DAYS)
    assert elapsed(window.start, window.end) == timedelta(hours=23, microseconds=-1)


POSITIONS = [
    (U.YEARS, 0, 94),
    (U.MONTHS, 0, 3),
    (U.QUARTERS, 0, 3),
    (U.WEEKS, 0, 5),
    (U.WEEKS, 5, 0),
    (U.WEEKS, 6, 6),
]


@pytest.mark.parametrize(("unit", "week_start", "want"), POSITIONS)
def test_days_into_period(unit: U, week_start: int, want: int) -> None:
    assert days_into_period(NOW, unit, week_start) == want


DAYS = sorted(
    [date(1899, 12, 20) + timedelta(days=i) for i in range(0, 44_000, 37)]
    + [
        date(2020, 2, 29),
        date(2020, 12, 31),
        date(2021, 1, 1),
        date(1900, 1, 1),
        date(1899, 12, 31),
    ]
)


PERIODS = [(U.WEEKS, ws) for ws in range(7)] + [(u, 0) for u in PERIOD_UNITS - {U.WEEKS}]


@pytest.mark.parametrize(("unit", "week_start"), PERIODS)
def test_days_into_period_sql_matches_python(unit: U, week_start: int) -> None:
    conn = duckdb.connect()
    conn.execute("CREATE TABLE t (d DATE, ts TIMESTAMP)")
    rows = [(d, datetime(d.year, d.month, d.day, 23, 59)) for d in DAYS]
    conn.executemany("INSERT INTO t VALUES (?, ?)", rows)
    want = [(d, days_into_period(at(d.year, d.month, d.day), unit, week_start)) for d in DAYS]
    for column in ("d", "ts"):
        sql = days_into_period_sql(exp.column(column, table="t"), unit, week_start).sql("duckdb")
        assert conn.execute(f"SELECT d, {sql} FROM t ORDER BY d").fetchall() == want, sql


DIALECTS = ["duckdb", "postgres", "bigquery", "snowflake", "redshift", "trino", "clickhouse"]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("unit", sorted(PERIOD_UNITS))
def test_days_into_period_sql_parses_back(dialect: str, unit: U) -> None:
    sql = days_into_period_sql(exp.column("d"), unit, 2).sql(dialect)
    assert parse_one(sql, read=dialect) is not None


WHEN = [
    ("2021-04-04", datetime(2021, 4, 4)),
    (" 2021-04-04 10:00:00 ", datetime(2021, 4, 4, 10)),
    ("2021-04-04T10:00:00Z", datetime(2021, 4, 4, 10, tzinfo=UTC)),
    ("2021-04-04T10:00:00.000Z", datetime(2021, 4, 4, 10, tzinfo=UTC)),
    ("2021-04-04T12:00:00+02:00", datetime(2021, 4, 4, 10, tzinfo=UTC)),
    (date(2021, 4, 4), date(2021, 4, 4)),
    (datetime(2021, 4, 4, 1), datetime(2021, 4, 4, 1)),
    ("04/04/2021", None),
    ("", None),
    ("Z", None),
    (20210404, None),
    (None, None),
]


@pytest.mark.parametrize(("value", "want"), WHEN)
def test_parse_when(value: Any, want: date | None) -> None:
    assert parse_when(value) == want


CHICAGO, TOKYO = ZoneInfo("America/Chicago"), ZoneInfo("Asia/Tokyo")
LITERALS = [
    (date(2021, 4, 4), False, "duckdb", "CAST('2021-04-04' AS DATE)"),
    (at(2021, 4, 4, 23, tz=CHICAGO), False, "duckdb", "CAST('2021-04-05' AS DATE)"),
    (date(2021, 4, 4), True, "duckdb", "CAST('2021-04-04 00:00:00' AS TIMESTAMP)"),
    (at(2021, 4, 4, 12, tz=TOKYO), True, "postgres", "CAST('2021-04-04 03:00:00' AS TIMESTAMP)"),
    (datetime(2021, 4, 4, 12, 0, 0, 5), True, "duckdb",
     "CAST('2021-04-04 12:00:00.000005' AS TIMESTAMP)"),
    (datetime(2021, 4, 4, 12), True, "bigquery", "'2021-04-04 12:00:00'"),
    (date(2021, 4, 4), False, "bigquery", "'2021-04-04'"),
    (date(2021, 4, 4), True, "clickhouse", "CAST('2021-04-04 00:00:00' AS DateTime64(6))"),
]  # fmt: skip


@pytest.mark.parametrize(("when", "timestamp", "dialect", "want"), LITERALS)
def test_date_literal(when: date, timestamp: bool, dialect: str, want: str) -> None:
    kind = DimensionType.TIMESTAMP if timestamp else DimensionType.DATE
    sql = date_literal(when, kind, dialect).sql(dialect)
    assert sql == want
    assert parse_one(sql, read=dialect).sql(dialect) == sql
