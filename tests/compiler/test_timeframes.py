"""Time-interval SQL: DuckDB executes every interval against a Python oracle; dialect snapshots."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import pytest
from sqlglot import exp, parse_one

from metricql.compiler.sql.timeframes import (
    DATE_OVERRIDES,
    DEFAULT,
    OVERRIDES,
    calendar_order,
    interval_expression,
)
from metricql.dialects import SUPPORTED
from metricql.errors import CompileError
from metricql.semantic.fields import INTERVAL_TYPES, DimensionType
from metricql.semantic.fields import TimeInterval as TI

DIALECTS = SUPPORTED
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

# Year boundaries (ISO week 53 of 2020, week 52 of 2023), a leap day, every weekday,
# every month, the last microsecond and millisecond of a day.
TIMESTAMPS = [
    *(datetime(2023, 12, 25, 8, 30) + timedelta(days=i, hours=5 * i) for i in range(15)),
    *(datetime(2024, m, 15, m, 2 * m, m, 1000 * m) for m in range(1, 13)),
    datetime(2024, 2, 29, 13, 45, 30, 123456),
    datetime(2023, 12, 31, 23, 59, 59, 999000),
    datetime(2024, 9, 30, 23, 59, 59, 999999),
    datetime(2024, 1, 1),
    datetime(2020, 12, 31, 12),
    datetime(2021, 1, 3, 18, 15),
    datetime(2021, 1, 4),
    datetime(2019, 12, 30, 1),
]


def _quarter(d: date) -> int:
    return (d.month - 1) // 3 + 1


def _week(d: date, start: int) -> date:
    return d - timedelta(days=(d.weekday() - start) % 7)


# Python truth for each interval of a datetime (DATE bases are passed as midnight datetimes).
ORACLE: dict[TI, Callable[[datetime], Any]] = {
    TI.RAW: lambda t: t,
    TI.MILLISECOND: lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000),
    TI.SECOND: lambda t: t.replace(microsecond=0),
    TI.MINUTE: lambda t: t.replace(second=0, microsecond=0),
    TI.HOUR: lambda t: t.replace(minute=0, second=0, microsecond=0),
    TI.DAY: lambda t: t.date(),
    TI.WEEK: lambda t: _week(t.date(), 0),
    TI.MONTH: lambda t: t.date().replace(day=1),
    TI.QUARTER: lambda t: date(t.year, 3 * _quarter(t) - 2, 1),
    TI.YEAR: lambda t: date(t.year, 1, 1),
    TI.DAY_OF_WEEK_INDEX: lambda t: t.isoweekday() % 7,  # Postgres DOW: 0 = Sunday
    TI.DAY_OF_MONTH_NUM: lambda t: t.day,
    TI.DAY_OF_YEAR_NUM: lambda t: t.timetuple().tm_yday,
    TI.WEEK_NUM: lambda t: t.isocalendar()[1],
    TI.MONTH_NUM: lambda t: t.month,
    TI.QUARTER_NUM: _quarter,
    TI.YEAR_NUM: lambda t: t.year,
    TI.HOUR_OF_DAY_NUM: lambda t: t.hour,
    TI.MINUTE_OF_HOUR_NUM: lambda t: t.minute,
    TI.DAY_OF_WEEK_NAME: lambda t: WEEKDAYS[t.weekday()],
    TI.MONTH_NAME: lambda t: MONTHS[t.month - 1],
    TI.QUARTER_NAME: lambda t: f"Q{_quarter(t)}",
}
WEEK_START_ORACLE: dict[TI, Callable[[datetime, int], Any]] = {
    TI.WEEK: lambda t, n: _week(t.date(), n),
    TI.DAY_OF_WEEK_INDEX: lambda t, n: (t.weekday() - n) % 7 + 1,
    TI.WEEK_NUM: lambda t, n: (t - timedelta(days=n)).isocalendar()[1],
}
PYTHON_TYPES = {
    DimensionType.TIMESTAMP: datetime,
    DimensionType.DATE: date,
    DimensionType.NUMBER: int,
    DimensionType.STRING: str,
}
SQL_TYPES = {DimensionType.TIMESTAMP: "TIMESTAMP", DimensionType.DATE: "DATE"}


@pytest.fixture(scope="module")
def times() -> duckdb.DuckDBPyConnection:
    """Table `t(i, x)`: row i holds TIMESTAMPS[i], row -1 a NULL."""
    conn = duckdb.connect()
    conn.execute("CREATE TABLE t (i INTEGER, x TIMESTAMP)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [*enumerate(TIMESTAMPS), (-1, None)])
    return conn


def _run(
    conn: duckdb.DuckDBPyConnection,
    base_type: DimensionType,
    build: Callable[[exp.Expression], exp.Expression],
) -> dict[int, Any]:
    """Values of `build(x)` per row, with x cast to `base_type`."""
    base = exp.cast(exp.column("x"), SQL_TYPES[base_type])
    sql = f"SELECT i, {build(base).sql('duckdb')} FROM t"
    return dict(conn.execute(sql).fetchall())


def _expected(base_type: DimensionType, truth: Callable[[datetime], Any]) -> dict[int, Any]:
    def value(t: datetime) -> Any:
        if base_type is DimensionType.DATE:
            t = datetime.combine(t.date(), datetime.min.time())
            raw = truth(t)
            return raw.date() if truth is ORACLE[TI.RAW] else raw
        return truth(t)

    return {-1: None, **{i: value(t) for i, t in enumerate(TIMESTAMPS)}}


def _assert_types(values: dict[int, Any], interval: TI, base_type: DimensionType) -> None:
    want = PYTHON_TYPES[INTERVAL_TYPES[interval] or base_type]
    for v in values.values():
        if v is not None:
            assert isinstance(v, want), f"{v!r} is not a {want.__name__}"
            if want is date:  # datetime is a subclass of date
                assert not isinstance(v, datetime), f"{v!r} is not a plain date"


@pytest.mark.parametrize("base_type", [DimensionType.TIMESTAMP, DimensionType.DATE])
@pytest.mark.parametrize("interval", list(TI))
def test_interval_on_duckdb_matches_python(
    times: duckdb.DuckDBPyConnection, interval: TI, base_type: DimensionType
) -> None:
    got = _run(times, base_type, lambda c: interval_expression(c, interval, base_type, "duckdb"))
    assert got == _expected(base_type, ORACLE[interval])
    _assert_types(got, interval, base_type)


@pytest.mark.parametrize("base_type", [DimensionType.TIMESTAMP, DimensionType.DATE])
@pytest.mark.parametrize("week_start", range(7))
@pytest.mark.parametrize("interval", list(WEEK_START_ORACLE))
def test_week_start_on_duckdb_matches_python(
    times: duckdb.DuckDBPyConnection, interval: TI, week_start: int, base_type: DimensionType
) -> None:
    got = _run(
        times,
        base_type,
        lambda c: interval_expression(c, interval, base_type, "duckdb", week_start),
    )
    assert got == _expected(base_type, lambda t: WEEK_START_ORACLE[interval](t, week_start))
    _assert_types(got, interval, base_type)


def test_week_start_is_the_given_weekday(times: duckdb.DuckDBPyConnection) -> None:
    for n in range(7):
        weeks = _run(
            times,
            DimensionType.TIMESTAMP,
            lambda c, n=n: interval_expression(c, TI.WEEK, DimensionType.TIMESTAMP, "duckdb", n),
        )
        assert {w.weekday() for w in weeks.values() if w is not None} == {n}


EXPECTED: dict[tuple[TI, str], str] = {
    (TI.RAW, "duckdb"): "created_at",
    (TI.MILLISECOND, "duckdb"): "DATE_TRUNC('MILLISECOND', created_at)",
    (TI.SECOND, "duckdb"): "DATE_TRUNC('SECOND', created_at)",
    (TI.MINUTE, "duckdb"): "DATE_TRUNC('MINUTE', created_at)",
    (TI.HOUR, "duckdb"): "DATE_TRUNC('HOUR', created_at)",
    (TI.DAY, "duckdb"): "CAST(DATE_TRUNC('DAY', created_at) AS DATE)",
    (TI.WEEK, "duckdb"): "CAST(DATE_TRUNC('WEEK', created_at) AS DATE)",
    (TI.MONTH, "duckdb"): "CAST(DATE_TRUNC('MONTH', created_at) AS DATE)",
    (TI.QUARTER, "duckdb"): "CAST(DATE_TRUNC('QUARTER', created_at) AS DATE)",
    (TI.YEAR, "duckdb"): "CAST(DATE_TRUNC('YEAR', created_at) AS DATE)",
    (TI.DAY_OF_WEEK_INDEX, "duckdb"): "EXTRACT(DAYOFWEEK FROM created_at)",
    (TI.DAY_OF_MONTH_NUM, "duckdb"): "EXTRACT(DAY FROM created_at)",
    (TI.DAY_OF_YEAR_NUM, "duckdb"): "EXTRACT(DAYOFYEAR FROM created_at)",
    (TI.WEEK_NUM, "duckdb"): "EXTRACT(WEEK FROM created_at)",
    (TI.MONTH_NUM, "duckdb"): "EXTRACT(MONTH FROM created_at)",
    (TI.QUARTER_NUM, "duckdb"): "EXTRACT(QUARTER FROM created_at)",
    (TI.YEAR_NUM, "duckdb"): "EXTRACT(YEAR FROM created_at)",
    (TI.HOUR_OF_DAY_NUM, "duckdb"): "EXTRACT(HOUR FROM created_at)",
    (TI.MINUTE_OF_HOUR_NUM, "duckdb"): "EXTRACT(MINUTE FROM created_at)",
    (TI.DAY_OF_WEEK_NAME, "duckdb"): "STRFTIME(created_at, '%A')",
    (TI.MONTH_NAME, "duckdb"): "STRFTIME(created_at, '%B')",
    (TI.QUARTER_NAME, "duckdb"): "'Q' || CAST(EXTRACT(QUARTER FROM created_at) AS TEXT)",
    (TI.RAW, "postgres"): "created_at",
    (TI.MILLISECOND, "postgres"): "DATE_TRUNC('MILLISECOND', created_at)",
    (TI.SECOND, "postgres"): "DATE_TRUNC('SECOND', created_at)",
    (TI.MINUTE, "postgres"): "DATE_TRUNC('MINUTE', created_at)",
    (TI.HOUR, "postgres"): "DATE_TRUNC('HOUR', created_at)",
    (TI.DAY, "postgres"): "CAST(DATE_TRUNC('DAY', created_at) AS DATE)",
    (TI.WEEK, "postgres"): "CAST(DATE_TRUNC('WEEK', created_at) AS DATE)",
    (TI.MONTH, "postgres"): "CAST(DATE_TRUNC('MONTH', created_at) AS DATE)",
    (TI.QUARTER, "postgres"): "CAST(DATE_TRUNC('QUARTER', created_at) AS DATE)",
    (TI.YEAR, "postgres"): "CAST(DATE_TRUNC('YEAR', created_at) AS DATE)",
    (TI.DAY_OF_WEEK_INDEX, "postgres"): "CAST(EXTRACT(DOW FROM created_at) AS INT)",
    (TI.DAY_OF_MONTH_NUM, "postgres"): "CAST(EXTRACT(DAY FROM created_at) AS INT)",
    (TI.DAY_OF_YEAR_NUM, "postgres"): "CAST(EXTRACT(DOY FROM created_at) AS INT)",
    (TI.WEEK_NUM, "postgres"): "CAST(EXTRACT(WEEK FROM created_at) AS INT)",
    (TI.MONTH_NUM, "postgres"): "CAST(EXTRACT(MONTH FROM created_at) AS INT)",
    (TI.QUARTER_NUM, "postgres"): "CAST(EXTRACT(QUARTER FROM created_at) AS INT)",
    (TI.YEAR_NUM, "postgres"): "CAST(EXTRACT(YEAR FROM created_at) AS INT)",
    (TI.HOUR_OF_DAY_NUM, "postgres"): "CAST(EXTRACT(HOUR FROM created_at) AS INT)",
    (TI.MINUTE_OF_HOUR_NUM, "postgres"): "CAST(EXTRACT(MINUTE FROM created_at) AS INT)",
    (TI.DAY_OF_WEEK_NAME, "postgres"): "TO_CHAR(created_at, 'FMDay')",
    (TI.MONTH_NAME, "postgres"): "TO_CHAR(created_at, 'FMMonth')",
    (TI.QUARTER_NAME, "postgres"): "TO_CHAR(created_at, 'FM\"Q\"Q')",
    (TI.MONTH, "bigquery"): "CAST(TIMESTAMP_TRUNC(created_at, MONTH) AS DATE)",
    (TI.WEEK, "bigquery"): "CAST(TIMESTAMP_TRUNC(created_at, ISOWEEK) AS DATE)",
    (TI.DAY_OF_WEEK_INDEX, "bigquery"): "EXTRACT(DAYOFWEEK FROM created_at) - 1",
    (TI.WEEK_NUM, "bigquery"): "EXTRACT(ISOWEEK FROM created_at)",
    (TI.DAY_OF_WEEK_NAME, "bigquery"): "FORMAT_TIMESTAMP('%A', created_at)",
    (TI.DAY_OF_WEEK_INDEX, "snowflake"): "DATE_PART(DAYOFWEEKISO, created_at) % 7",
    (TI.WEEK_NUM, "snowflake"): "DATE_PART(WEEKISO, created_at)",
    (TI.MONTH_NAME, "snowflake"): "TO_CHAR(created_at, 'mmmm')",
    (TI.DAY_OF_WEEK_INDEX, "databricks"): "EXTRACT(DAYOFWEEK FROM created_at) - 1",
    (TI.DAY_OF_WEEK_NAME, "databricks"): "DATE_FORMAT(created_at, 'EEEE')",
    (TI.MONTH_NAME, "spark"): "DATE_FORMAT(created_at, 'MMMM')",
    (TI.DAY_OF_WEEK_INDEX, "trino"): "EXTRACT(DOW FROM created_at) % 7",
    (TI.DAY_OF_WEEK_NAME, "athena"): "DATE_FORMAT(created_at, '%W')",
    (TI.MONTH_NAME, "trino"): "DATE_FORMAT(created_at, '%M')",
    (TI.DAY_OF_WEEK_INDEX, "clickhouse"): "toDayOfWeek(created_at) % 7",
    (TI.MONTH_NAME, "clickhouse"): "dateName('month', created_at)",
    (TI.MONTH, "clickhouse"): "CAST(dateTrunc('MONTH', created_at) AS Nullable(DATE))",
    (TI.DAY_OF_WEEK_NAME, "redshift"): "TO_CHAR(created_at, 'FMDay')",
}


@pytest.mark.parametrize(("interval", "dialect"), EXPECTED)
def test_interval_sql(interval: TI, dialect: str) -> None:
    sql = interval_expression(
        exp.column("created_at"), interval, DimensionType.TIMESTAMP, dialect
    ).sql(dialect)
    assert sql == EXPECTED[interval, dialect]
    assert parse_one(sql, read=dialect).sql(dialect) == sql  # real SQL there


EXPECTED_OTHER: dict[tuple[TI, str, DimensionType, int | None], str] = {
    (TI.HOUR, "duckdb", DimensionType.DATE, None): "DATE_TRUNC('HOUR', CAST(d AS TIMESTAMP))",
    (TI.HOUR_OF_DAY_NUM, "postgres", DimensionType.DATE, None): (
        "CAST(EXTRACT(HOUR FROM CAST(d AS TIMESTAMP)) AS INT)"
    ),
    (TI.MONTH, "bigquery", DimensionType.DATE, None): "CAST(DATE_TRUNC(d, MONTH) AS DATE)",
    (TI.MONTH_NAME, "bigquery", DimensionType.DATE, None): "FORMAT_DATE('%B', d)",
    (TI.HOUR, "bigquery", DimensionType.DATE, None): "TIMESTAMP_TRUNC(CAST(d AS TIMESTAMP), HOUR)",
    (TI.WEEK, "duckdb", DimensionType.TIMESTAMP, 6): (
        "CAST(DATE_TRUNC('WEEK', CAST(d AS DATE) - 6) AS DATE) + 6"
    ),
    (TI.WEEK, "postgres", DimensionType.TIMESTAMP, 6): (
        "CAST(DATE_TRUNC('WEEK', CAST(d AS DATE) - 6) AS DATE) + 6"
    ),
    (TI.WEEK, "postgres", DimensionType.TIMESTAMP, 0): "CAST(DATE_TRUNC('WEEK', d) AS DATE)",
    (TI.WEEK_NUM, "postgres", DimensionType.TIMESTAMP, 6): (
        "CAST(EXTRACT(WEEK FROM CAST(d AS DATE) - 6) AS INT)"
    ),
    (TI.DAY_OF_WEEK_INDEX, "postgres", DimensionType.TIMESTAMP, 0): (
        "((CAST(EXTRACT(DOW FROM d) AS INT) + 6) % 7) + 1"
    ),
    (TI.DAY_OF_WEEK_INDEX, "duckdb", DimensionType.DATE, 6): "EXTRACT(DAYOFWEEK FROM d) + 1",
    (TI.WEEK, "snowflake", DimensionType.TIMESTAMP, 2): (
        "DATEADD(DAY, 2, CAST(DATE_TRUNC('WEEK', DATEADD(DAY, -2, CAST(d AS DATE))) AS DATE))"
    ),
    (TI.WEEK, "trino", DimensionType.DATE, 2): (
        "DATE_ADD('DAY', 2, CAST(DATE_TRUNC('WEEK', DATE_ADD('DAY', -2, CAST(d AS DATE))) AS DATE))"
    ),
}


@pytest.mark.parametrize(("interval", "dialect", "base_type", "week_start"), EXPECTED_OTHER)
def test_date_base_and_week_start_sql(
    interval: TI, dialect: str, base_type: DimensionType, week_start: int | None
) -> None:
    sql = interval_expression(exp.column("d"), interval, base_type, dialect, week_start).sql(
        dialect
    )
    assert sql == EXPECTED_OTHER[interval, dialect, base_type, week_start]
    assert parse_one(sql, read=dialect).sql(dialect) == sql


@pytest.mark.parametrize("week_start", [None, 0, 3, 6])
@pytest.mark.parametrize("base_type", [DimensionType.TIMESTAMP, DimensionType.DATE])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_interval_renders_and_parses_back(
    dialect: str, base_type: DimensionType, week_start: int | None
) -> None:
    for interval in TI:
        tree = interval_expression(exp.column("x"), interval, base_type, dialect, week_start)
        sql = tree.sql(dialect, unsupported_level="raise")
        again = parse_one(sql, read=dialect).sql(dialect)  # sqlglot may respell a literal
        assert parse_one(again, read=dialect).sql(dialect) == again, (interval, sql)


def test_tables_cover_intervals_and_known_dialects() -> None:
    assert set(DEFAULT) == set(TI)
    assert set(OVERRIDES) | set(DATE_OVERRIDES) <= set(DIALECTS)
    for table in (*OVERRIDES.values(), *DATE_OVERRIDES.values()):
        assert set(table) <= set(TI)


def test_base_tree_is_copied_not_mutated() -> None:
    base = exp.column("created_at", table="orders")
    before = base.sql()
    for interval in TI:
        tree = interval_expression(base, interval, DimensionType.DATE, "bigquery", 3)
        assert not any(node is base for node in tree.walk())
    assert base.sql() == before and base.parent is None


def test_rejects_non_time_base_and_bad_week_start() -> None:
    with pytest.raises(CompileError, match="date or timestamp"):
        interval_expression(exp.column("x"), TI.DAY, DimensionType.STRING, "duckdb")
    with pytest.raises(CompileError, match="start of week"):
        interval_expression(exp.column("x"), TI.WEEK, DimensionType.DATE, "duckdb", 7)


@pytest.mark.parametrize(
    ("week_start", "first"), [(None, "Sunday"), (0, "Monday"), (2, "Wednesday"), (6, "Sunday")]
)
def test_day_names_sort_in_calendar_order(
    times: duckdb.DuckDBPyConnection, week_start: int | None, first: str
) -> None:
    name = interval_expression(
        exp.column("x"), TI.DAY_OF_WEEK_NAME, DimensionType.TIMESTAMP, "duckdb"
    )
    order = calendar_order(exp.column("name"), TI.DAY_OF_WEEK_NAME, week_start)
    assert order is not None
    sql = f"SELECT DISTINCT {name.sql('duckdb')} AS name FROM t"
    got = [
        r[0]
        for r in times.execute(
            f"SELECT name FROM ({sql}) ORDER BY {order.sql('duckdb')}"
        ).fetchall()
    ]
    start = WEEKDAYS.index(first)
    assert got == [None, *WEEKDAYS[start:], *WEEKDAYS[:start]]  # unknown (NULL) ranks 0


def test_month_names_sort_in_calendar_order(times: duckdb.DuckDBPyConnection) -> None:
    name = interval_expression(exp.column("x"), TI.MONTH_NAME, DimensionType.DATE, "duckdb")
    order = calendar_order(exp.column("name"), TI.MONTH_NAME, None)
    assert order is not None
    sql = f"SELECT DISTINCT {name.sql('duckdb')} AS name FROM t UNION ALL SELECT 'Smarch'"
    query = f"SELECT name FROM ({sql}) ORDER BY {order.sql('duckdb')} DESC, name NULLS LAST"
    got = [r[0] for r in times.execute(query).fetchall()]
    assert got == [*reversed(MONTHS), "Smarch", None]  # unknown and NULL rank 0


def test_calendar_order_sql_and_other_intervals() -> None:
    order = calendar_order(exp.column("orders_created_month_name"), TI.MONTH_NAME, None)
    assert order is not None
    assert order.sql("postgres").startswith(
        "CASE WHEN orders_created_month_name = 'January' THEN 1 WHEN "
    )
    assert order.sql("postgres").endswith("= 'December' THEN 12 ELSE 0 END")
    assert calendar_order(exp.column("x"), TI.QUARTER_NAME, None) is None
    assert calendar_order(exp.column("x"), TI.MONTH, 3) is None
