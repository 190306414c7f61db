"""Time-interval child dimensions (`<base>_month`, `<base>_day_of_week_name` …) as sqlglot trees.

`DEFAULT` holds one builder per interval made of sqlglot nodes with DuckDB/Postgres meaning;
a dialect overrides only the entries whose meaning or spelling differs there (`OVERRIDES`,
and `DATE_OVERRIDES` for DATE bases). The result means the same in every dialect:

* MILLISECOND … HOUR are timestamps; DAY … YEAR are DATEs; numbers are integers; names are
  unpadded English ('Monday', 'January', 'Q1').
* Without `week_start`, weeks start on Monday (ISO) everywhere, WEEK_NUM is the ISO week and
  DAY_OF_WEEK_INDEX is Postgres' DOW (0 = Sunday … 6 = Saturday).
* With `week_start` N (0 = Monday … 6 = Sunday), Lightdash's formulas: WEEK truncates the date
  N days earlier and adds N days back, WEEK_NUM is the ISO week of the date N days earlier,
  DAY_OF_WEEK_INDEX counts 1 … 7 from the start of the week.
* On DATE bases, sub-day intervals (MILLISECOND … HOUR, HOUR_OF_DAY_NUM, MINUTE_OF_HOUR_NUM)
  read the date as a timestamp: midnight, hour 0, minute 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

from sqlglot import exp

from metricql.errors import CompileError
from metricql.semantic.fields import DimensionType
from metricql.semantic.fields import TimeInterval as TI

Build = Callable[[exp.Expr], exp.Expr]
AddDays = Callable[[exp.Expr, int], exp.Expr]

DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

_DATE = exp.DType.DATE
_TRUNCATED_TO_TIMESTAMP = (TI.MILLISECOND, TI.SECOND, TI.MINUTE, TI.HOUR)
_TRUNCATED_TO_DATE = (TI.DAY, TI.WEEK, TI.MONTH, TI.QUARTER, TI.YEAR)
_SUB_DAY = frozenset({*_TRUNCATED_TO_TIMESTAMP, TI.HOUR_OF_DAY_NUM, TI.MINUTE_OF_HOUR_NUM})
_PARTS: Mapping[TI, str] = {  # date part each number interval extracts (Postgres names)
    TI.DAY_OF_WEEK_INDEX: "DOW",
    TI.DAY_OF_MONTH_NUM: "DAY",
    TI.DAY_OF_YEAR_NUM: "DOY",
    TI.WEEK_NUM: "WEEK",
    TI.MONTH_NUM: "MONTH",
    TI.QUARTER_NUM: "QUARTER",
    TI.YEAR_NUM: "YEAR",
    TI.HOUR_OF_DAY_NUM: "HOUR",
    TI.MINUTE_OF_HOUR_NUM: "MINUTE",
}


def _trunc(unit: str) -> Build:
    return lambda c: exp.TimestampTrunc(this=c, unit=exp.var(unit))


def _date_trunc(unit: str) -> Build:
    return lambda c: exp.DateTrunc.from_arg_list([exp.var(unit), c])  # its __init__ is untyped


def _as_date(build: Build) -> Build:
    return lambda c: exp.cast(build(c), _DATE)


def _as_int(build: Build) -> Build:
    return lambda c: exp.cast(build(c), exp.DType.INT)


def _extract(part: str) -> Build:
    return lambda c: exp.Extract(this=exp.var(part), expression=c)


def _call(name: str, *leading: str) -> Build:
    """`name('leading', …, column)`, for functions sqlglot has no node for."""
    return lambda c: exp.Anonymous(
        this=name, expressions=[*(exp.Literal.string(a) for a in leading), c]
    )


def _to_char(pattern: str) -> Build:
    return lambda c: exp.Anonymous(this="TO_CHAR", expressions=[c, exp.Literal.string(pattern)])


def _format(strftime: str) -> Build:  # sqlglot maps the strftime pattern to each dialect's
    return lambda c: exp.TimeToStr(this=c, format=exp.Literal.string(strftime))


def _format_timestamp(strftime: str) -> Build:  # BigQuery: FORMAT_TIMESTAMP, not FORMAT_DATE
    return lambda c: exp.TimeToStr(
        this=exp.TsOrDsToTimestamp(this=c), format=exp.Literal.string(strftime)
    )


def _minus_one(build: Build) -> Build:  # 1 = Sunday … 7 = Saturday → 0 … 6
    return lambda c: build(c) - 1


def _mod7(build: Build) -> Build:  # ISO 1 = Monday … 7 = Sunday → 0 = Sunday … 6
    return lambda c: build(c) % 7


def _quarter_name(quarter: Build) -> Build:  # || keeps NULL NULL (CONCAT would give 'Q')
    return lambda c: exp.DPipe(
        this=exp.Literal.string("Q"), expression=exp.cast(quarter(c), exp.DType.TEXT)
    )


def _named(number: Build, names: Sequence[str], first: int) -> Build:
    """`CASE number WHEN first THEN names[0] … END`: names where the dialect has no full ones."""
    return lambda c: exp.Case(
        this=number(c),
        ifs=[
            exp.If(this=exp.Literal.number(first + i), true=exp.Literal.string(name))
            for i, name in enumerate(names)
        ],
    )


DEFAULT: Mapping[TI, Build] = MappingProxyType(
    {
        TI.RAW: lambda c: c,
        **{ti: _trunc(ti.value) for ti in _TRUNCATED_TO_TIMESTAMP},
        **{ti: _as_date(_trunc(ti.value)) for ti in _TRUNCATED_TO_DATE},
        **{ti: _extract(part) for ti, part in _PARTS.items()},
        TI.DAY_OF_WEEK_NAME: _format("%A"),
        TI.MONTH_NAME: _format("%B"),
        TI.QUARTER_NAME: _quarter_name(_extract("QUARTER")),
    }
)

_TO_CHAR_NAMES: Mapping[TI, Build] = {  # FM: no blank padding ('Monday', not 'Monday   ')
    TI.DAY_OF_WEEK_NAME: _to_char("FMDay"),
    TI.MONTH_NAME: _to_char("FMMonth"),
    TI.QUARTER_NAME: _to_char('FM"Q"Q'),
}
_SPARK: Mapping[TI, Build] = {TI.DAY_OF_WEEK_INDEX: _minus_one(_extract("DAYOFWEEK"))}
_TRINO: Mapping[TI, Build] = {TI.DAY_OF_WEEK_INDEX: _mod7(_extract("DOW"))}  # DOW is ISO there
_CLICKHOUSE_PARTS: Mapping[TI, str] = {
    TI.DAY_OF_MONTH_NUM: "toDayOfMonth",
    TI.DAY_OF_YEAR_NUM: "toDayOfYear",
    TI.WEEK_NUM: "toISOWeek",
    TI.MONTH_NUM: "toMonth",
    TI.QUARTER_NUM: "toQuarter",
    TI.YEAR_NUM: "toYear",
    TI.HOUR_OF_DAY_NUM: "toHour",
    TI.MINUTE_OF_HOUR_NUM: "toMinute",
}

OVERRIDES: Mapping[str, Mapping[TI, Build]] = MappingProxyType(
    {
        "postgres": {  # EXTRACT returns NUMERIC there; TO_CHAR names
            **{ti: _as_int(DEFAULT[ti]) for ti in _PARTS},
            **_TO_CHAR_NAMES,
        },
        "redshift": _TO_CHAR_NAMES,
        "snowflake": {  # DAYOFWEEK, WEEK, DAYNAME depend on session parameters or abbreviate
            TI.DAY_OF_WEEK_INDEX: _mod7(_extract("DAYOFWEEKISO")),
            TI.WEEK_NUM: _extract("WEEKISO"),
            TI.DAY_OF_WEEK_NAME: _named(_extract("DAYOFWEEKISO"), (*DAY_NAMES[1:], "Sunday"), 1),
        },
        "bigquery": {  # plain WEEK starts on Sunday; DAYOFWEEK is 1 = Sunday
            TI.WEEK: _as_date(_trunc("ISOWEEK")),
            TI.DAY_OF_WEEK_INDEX: _minus_one(_extract("DAYOFWEEK")),
            TI.DAY_OF_YEAR_NUM: _extract("DAYOFYEAR"),
            TI.WEEK_NUM: _extract("ISOWEEK"),
            TI.DAY_OF_WEEK_NAME: _format_timestamp("%A"),
            TI.MONTH_NAME: _format_timestamp("%B"),
        },
        "databricks": _SPARK,  # DAYOFWEEK is 1 = Sunday
        "spark": _SPARK,
        "trino": _TRINO,
        "athena": _TRINO,
        "clickhouse": {  # EXTRACT knows few parts there
            **{ti: _call(name) for ti, name in _CLICKHOUSE_PARTS.items()},
            TI.DAY_OF_WEEK_INDEX: _mod7(_call("toDayOfWeek")),
            TI.DAY_OF_WEEK_NAME: _call("dateName", "weekday"),
            TI.MONTH_NAME: _call("dateName", "month"),
            TI.QUARTER_NAME: _quarter_name(_call("toQuarter")),
        },
    }
)

DATE_OVERRIDES: Mapping[str, Mapping[TI, Build]] = MappingProxyType(
    {
        "bigquery": {  # TIMESTAMP_TRUNC and FORMAT_TIMESTAMP do not take DATEs
            **{ti: _as_date(_date_trunc(ti.value)) for ti in _TRUNCATED_TO_DATE},
            TI.WEEK: _as_date(_date_trunc("ISOWEEK")),
            TI.DAY_OF_WEEK_NAME: _format("%A"),
            TI.MONTH_NAME: _format("%B"),
        },
    }
)

# Timestamp type a DATE base is cast to for sub-day intervals (sqlglot's TIMESTAMP is naive;
# BigQuery's TIMESTAMP_TRUNC wants its TIMESTAMP, sqlglot's TIMESTAMPTZ).
_TIMESTAMP_TYPE: Mapping[str, exp.DType] = {"bigquery": exp.DType.TIMESTAMPTZ}


def _date_add(date: exp.Expr, days: int) -> exp.Expr:
    return exp.DateAdd(this=date, expression=exp.Literal.number(days), unit=exp.var("DAY"))


def _date_plus(date: exp.Expr, days: int) -> exp.Expr:
    return date + days if days >= 0 else date - -days


# `date ± n days`, still a DATE (DuckDB's and Postgres' `date + INTERVAL` is a timestamp).
ADD_DAYS: Mapping[str, AddDays] = MappingProxyType(
    {
        "duckdb": _date_plus,
        "postgres": _date_plus,
        "databricks": _date_plus,  # its 3-argument DATEADD returns a timestamp
        "spark": _date_plus,
        "redshift": lambda d, n: exp.cast(_date_add(d, n), _DATE),  # DATEADD: a timestamp
    }
)


LocalTime = Callable[[exp.Expr, str], exp.Expr]


def _convert(column: exp.Expr, tz: str) -> exp.Expr:
    return exp.ConvertTimezone(
        source_tz=exp.Literal.string("UTC"), target_tz=exp.Literal.string(tz), timestamp=column
    )


def _clickhouse_local(column: exp.Expr, tz: str) -> exp.Expr:
    """`x` plus the zone's UTC offset at `x`: wall-clock time still typed as the column."""
    offset = exp.Anonymous(
        this="timeZoneOffset",
        expressions=[
            exp.Anonymous(this="toTimeZone", expressions=[column.copy(), exp.Literal.string(tz)])
        ],
    )
    return exp.Anonymous(this="addSeconds", expressions=[column, offset])


# A naive UTC timestamp as the naive wall-clock time in a zone (sqlglot renders CONVERT_TIMEZONE
# per dialect: `AT TIME ZONE 'UTC' AT TIME ZONE tz` on DuckDB/Postgres, DATETIME(x, tz) on
# BigQuery); ClickHouse has neither, so its rule adds the zone's offset at that instant.
def _trino_local(column: exp.Expr, tz: str) -> exp.Expr:
    """Trino reads a naive timestamp in the session zone: say it is UTC, move, drop the zone."""
    utc = exp.Anonymous(this="with_timezone", expressions=[column, exp.Literal.string("UTC")])
    moved = exp.Anonymous(this="at_timezone", expressions=[utc, exp.Literal.string(tz)])
    return exp.cast(moved, exp.DType.TIMESTAMP)


LOCAL_TIME: Mapping[str, LocalTime] = MappingProxyType(
    {
        "clickhouse": _clickhouse_local,
        "trino": _trino_local,
        "athena": _trino_local,
        # DATETIME(timestamp, zone) is the wall clock; TIMESTAMP() keeps TIMESTAMP_TRUNC usable
        "bigquery": lambda c, tz: exp.Anonymous(
            this="TIMESTAMP",
            expressions=[exp.Anonymous(this="DATETIME", expressions=[c, exp.Literal.string(tz)])],
        ),
    }
)
# Intervals truncated in the query's timezone when the project asks for timezone buckets.
IN_TIMEZONE = frozenset({*_TRUNCATED_TO_TIMESTAMP, *_TRUNCATED_TO_DATE})


def local_time(column: exp.Expr, tz: str, dialect: str) -> exp.Expr:
    """`column` (a naive UTC timestamp) as wall-clock time in the IANA zone `tz`."""
    return LOCAL_TIME.get(dialect, _convert)(column, tz)


def interval_expression(
    base: exp.Expr,
    interval: TI,
    base_type: DimensionType,
    dialect: str,
    week_start: int | None = None,
) -> exp.Expr:
    """Tree of the `interval` child of a DATE or TIMESTAMP dimension whose tree is `base`."""
    if base_type not in (DimensionType.DATE, DimensionType.TIMESTAMP):
        raise CompileError(
            f"time interval {interval.value} needs a date or timestamp base, not {base_type.value}",
            hint="set the dimension's type to date or timestamp, or remove its time_intervals",
            interval=interval.value,
        )
    if week_start is not None and week_start not in range(7):
        raise CompileError(
            f"start of week must be 0 (Monday) … 6 (Sunday), not {week_start!r}",
            hint="set start_of_week to a weekday number, 0 = Monday",
            week_start=week_start,
        )
    column = base.copy()
    if week_start is not None and interval in _WEEK_START:
        return _WEEK_START[interval](column, base_type, dialect, week_start)
    return _builder(interval, base_type, dialect)(column)


def _builder(interval: TI, base_type: DimensionType, dialect: str) -> Build:
    if base_type is DimensionType.DATE:
        if build := DATE_OVERRIDES.get(dialect, {}).get(interval):
            return build
        if interval in _SUB_DAY:
            to_timestamp = _TIMESTAMP_TYPE.get(dialect, exp.DType.TIMESTAMP)
            on_timestamp = _builder(interval, DimensionType.TIMESTAMP, dialect)
            return lambda c: on_timestamp(exp.cast(c, to_timestamp))
    return OVERRIDES.get(dialect, {}).get(interval, DEFAULT[interval])


def _add_days(dialect: str) -> AddDays:
    return ADD_DAYS.get(dialect, _date_add)


def _days_earlier(column: exp.Expr, dialect: str, days: int) -> exp.Expr:
    """The DATE of `column`, `days` days earlier."""
    return _add_days(dialect)(exp.cast(column, _DATE), -days)


def _week(column: exp.Expr, base_type: DimensionType, dialect: str, n: int) -> exp.Expr:
    if n == 0:  # Monday: the ISO week every dialect truncates to
        return _builder(TI.WEEK, base_type, dialect)(column)
    week = _builder(TI.WEEK, DimensionType.DATE, dialect)(_days_earlier(column, dialect, n))
    return _add_days(dialect)(week, n)


def _week_num(column: exp.Expr, base_type: DimensionType, dialect: str, n: int) -> exp.Expr:
    if n == 0:
        return _builder(TI.WEEK_NUM, base_type, dialect)(column)
    return _builder(TI.WEEK_NUM, DimensionType.DATE, dialect)(_days_earlier(column, dialect, n))


def _day_of_week_index(
    column: exp.Expr, base_type: DimensionType, dialect: str, n: int
) -> exp.Expr:
    """1 … 7 from the start of the week: `(dow + 6 - n) % 7 + 1`, dow 0 = Sunday."""
    dow = _builder(TI.DAY_OF_WEEK_INDEX, base_type, dialect)(column)
    return (dow + (6 - n)) % 7 + 1 if n != 6 else dow + 1


WeekStartBuild = Callable[[exp.Expr, DimensionType, str, int], exp.Expr]
_WEEK_START: Mapping[TI, WeekStartBuild] = {
    TI.WEEK: _week,
    TI.WEEK_NUM: _week_num,
    TI.DAY_OF_WEEK_INDEX: _day_of_week_index,
}

# Rank of each name in calendar order, given the start of week (Lightdash's sort CASE).
_CALENDARS: Mapping[TI, Callable[[int | None], Mapping[str, int]]] = {
    TI.MONTH_NAME: lambda _: {name: i for i, name in enumerate(MONTH_NAMES, start=1)},
    TI.DAY_OF_WEEK_NAME: lambda start: {  # Sunday = 1 … Saturday = 7, rotated to the start
        name: i if start is None else (i + 7 - (start + 2)) % 7 + 1
        for i, name in enumerate(DAY_NAMES, start=1)
    },
}


def calendar_order(column: exp.Expr, interval: TI, week_start: int | None) -> exp.Expr | None:
    """CASE ranking MONTH_NAME / DAY_OF_WEEK_NAME values in calendar order; None otherwise."""
    if interval not in _CALENDARS:
        return None
    order = exp.case()
    for name, rank in _CALENDARS[interval](week_start).items():
        order = order.when(column.copy().eq(exp.Literal.string(name)), exp.Literal.number(rank))
    return order.else_(exp.Literal.number(0))
