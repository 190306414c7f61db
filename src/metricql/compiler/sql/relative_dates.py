"""Dates in filters: literals, windows around "now" (relative operators), period positions.

Calendar math is plain Python on timezone-aware datetimes living in the zone the boundaries
are computed in (the query timezone for timestamps, UTC for dates). As in Lightdash
(moment.js), sub-day units move absolute time while days and longer keep the wall clock.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from types import MappingProxyType
from typing import Any

from sqlglot import exp

from metricql.query.model import UnitOfTime
from metricql.semantic.fields import DimensionType

Unit = UnitOfTime
_UTC = timezone.utc

# --- calendar math --------------------------------------------------------------------------


def _midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0, fold=0)


# Start of the period containing a moment; the int is the week start (0=Monday … 6=Sunday).
_FLOOR: Mapping[Unit, Callable[[datetime, int], datetime]] = MappingProxyType(
    {
        Unit.MILLISECONDS: lambda t, _: t.replace(microsecond=t.microsecond // 1000 * 1000),
        Unit.SECONDS: lambda t, _: t.replace(microsecond=0),
        Unit.MINUTES: lambda t, _: t.replace(second=0, microsecond=0),
        Unit.HOURS: lambda t, _: t.replace(minute=0, second=0, microsecond=0),
        Unit.DAYS: lambda t, _: _midnight(t),
        Unit.WEEKS: lambda t, ws: _midnight(t) - timedelta(days=(t.weekday() - ws) % 7),
        Unit.MONTHS: lambda t, _: _midnight(t).replace(day=1),
        Unit.QUARTERS: lambda t, _: _midnight(t).replace(month=(t.month - 1) // 3 * 3 + 1, day=1),
        Unit.YEARS: lambda t, _: _midnight(t).replace(month=1, day=1),
    }
)
# Sub-day units have a fixed length; the others are calendar steps of days or months.
_EXACT: Mapping[Unit, timedelta] = MappingProxyType(
    {
        Unit.MILLISECONDS: timedelta(milliseconds=1),
        Unit.SECONDS: timedelta(seconds=1),
        Unit.MINUTES: timedelta(minutes=1),
        Unit.HOURS: timedelta(hours=1),
    }
)
_DAYS: Mapping[Unit, int] = MappingProxyType({Unit.DAYS: 1, Unit.WEEKS: 7})
_MONTHS: Mapping[Unit, int] = MappingProxyType({Unit.MONTHS: 1, Unit.QUARTERS: 3, Unit.YEARS: 12})


@dataclass(frozen=True, slots=True)
class Window:
    """A span of time: `start <= t` and `t <= end` (or `t < end` when not inclusive)."""

    start: datetime
    end: datetime
    end_inclusive: bool


def start_of(moment: datetime, unit: Unit, week_start: int = 0) -> datetime:
    """First instant of the `unit` period containing `moment` (weeks begin on `week_start`)."""
    return _FLOOR[unit](moment, week_start)


def shift(moment: datetime, unit: Unit, count: int) -> datetime:
    """`moment` moved by `count` units (negative = back); month ends clamp like moment.js."""
    if unit in _EXACT:
        utc = moment.astimezone(_UTC) + _EXACT[unit] * count
        return utc.astimezone(moment.tzinfo)
    if unit in _DAYS:
        return (moment + timedelta(days=_DAYS[unit] * count)).replace(fold=0)
    index = moment.year * 12 + moment.month - 1 + _MONTHS[unit] * count
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day, fold=0)


def _last_instant_before(moment: datetime) -> datetime:
    """The microsecond before `moment`, in absolute time (safe across DST changes)."""
    return (moment.astimezone(_UTC) - timedelta(microseconds=1)).astimezone(moment.tzinfo)


def past_window(
    now: datetime, unit: Unit, count: int, completed: bool, week_start: int = 0
) -> Window:
    """`inThePast count unit`: up to now, or the `count` whole periods before the current one."""
    if not completed:
        return Window(shift(now, unit, -count), now, end_inclusive=True)
    current = start_of(now, unit, week_start)
    return Window(shift(current, unit, -count), current, end_inclusive=False)


def next_window(
    now: datetime, unit: Unit, count: int, completed: bool, week_start: int = 0
) -> Window:
    """`inTheNext count unit`: from now, or the `count` whole periods after the current one."""
    if not completed:
        return Window(now, shift(now, unit, count), end_inclusive=True)
    following = shift(start_of(now, unit, week_start), unit, 1)
    return Window(following, shift(following, unit, count), end_inclusive=False)


def current_window(now: datetime, unit: Unit, week_start: int = 0) -> Window:
    """`inTheCurrent unit`: the whole period containing now, ending at its last microsecond."""
    start = start_of(now, unit, week_start)
    return Window(start, _last_instant_before(shift(start, unit, 1)), end_inclusive=True)


def days_into_period(now: datetime, unit: Unit, week_start: int = 0) -> int:
    """Whole days from the start of `now`'s `unit` period to `now`'s day (0 on the first day)."""
    return (_midnight(now) - start_of(now, unit, week_start)).days


# --- literals -------------------------------------------------------------------------------


_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{1,2}))?$")  # YYYY or YYYY-MM, as Lightdash saves them


def parse_when(value: Any) -> date | None:
    """A date or datetime from a date/datetime object, an ISO 8601 string, or a partial date
    (`YYYY`, `YYYY-MM`, a year number) meaning the start of that period; else None."""
    if isinstance(value, date):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 1000 <= value <= 9999:
        return date(value, 1, 1)
    if not isinstance(value, str):
        return None
    text = value.strip()
    partial = _PARTIAL.match(text)
    if partial:
        month = int(partial.group(2) or 1)
        return date(int(partial.group(1)), month, 1) if 1 <= month <= 12 else None
    if text.endswith(("Z", "z")):  # Python 3.10 reads no "Z"
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _calendar_date(when: date) -> date:
    if isinstance(when, datetime):
        return (when.astimezone(_UTC) if when.tzinfo else when).date()
    return when


def _utc_timestamp(when: date) -> datetime:
    """Naive UTC; naive inputs are taken to be UTC already."""
    if not isinstance(when, datetime):
        return datetime.combine(when, time())
    return when.astimezone(_UTC).replace(tzinfo=None) if when.tzinfo else when


_Typed = Callable[[str], exp.Expr]


def _cast(kind: exp.DataType) -> _Typed:
    """CAST(text AS kind), as `exp.cast` builds it, without re-building the type each time."""

    simple = not any(isinstance(v, exp.Expr) for v in kind.args.values())  # DATE, TIMESTAMP

    def typed(text: str) -> exp.Expr:
        to = exp.DataType(**kind.args) if simple else kind.copy()  # a copy, minus deepcopy
        cast = exp.Cast(this=exp.Literal.string(text), to=to)
        cast.type = cast.args["to"]
        return cast

    return typed


_DATE_LITERAL = _cast(exp.DataType.build("DATE"))
_TYPED: Mapping[DimensionType, _Typed] = MappingProxyType(
    {
        DimensionType.DATE: _DATE_LITERAL,
        DimensionType.TIMESTAMP: _cast(exp.DataType.build("TIMESTAMP")),
    }
)
_TYPED_OVERRIDES: Mapping[str, Mapping[DimensionType, _Typed]] = MappingProxyType(
    {
        # BigQuery coerces a string literal to the other side's DATE, DATETIME or TIMESTAMP;
        # a CAST would fix one type and fail against the others.
        "bigquery": {
            DimensionType.DATE: exp.Literal.string,
            DimensionType.TIMESTAMP: exp.Literal.string,
        },
        # DateTime holds whole seconds; period ends carry microseconds.
        "clickhouse": {
            DimensionType.TIMESTAMP: _cast(
                exp.DataType.build("DateTime64(6)", dialect="clickhouse")
            )
        },
    }
)


def date_literal(when: date, field_type: DimensionType, dialect: str) -> exp.Expr:
    """`CAST('YYYY-MM-DD' AS DATE)` for dates; for timestamps the UTC time, without offset."""
    if field_type is DimensionType.TIMESTAMP:
        text = _utc_timestamp(when).isoformat(sep=" ")
    else:
        text = _calendar_date(when).isoformat()
    typed = _TYPED_OVERRIDES.get(dialect, {}).get(field_type, _TYPED[field_type])
    return typed(text)


# --- period to date -------------------------------------------------------------------------


def _days_into(unit: str) -> Callable[[exp.Expr, int], exp.Expr]:
    def build(day: exp.Expr, _week_start: int) -> exp.Expr:
        start = exp.DateTrunc(this=day.copy(), unit=exp.var(unit))  # type: ignore[no-untyped-call]
        return exp.DateDiff(this=day, expression=start, unit=exp.var("DAY"))

    return build


_A_MONDAY = date(1970, 1, 5)  # inside every engine's date range (ClickHouse's starts in 1970)


def _days_into_week(day: exp.Expr, week_start: int) -> exp.Expr:
    """Days since the week's first day, counted from a known such day.

    DATE_TRUNC('WEEK') and day-of-week numbers differ between dialects; day counts do not.
    """
    anchor = _DATE_LITERAL((_A_MONDAY + timedelta(days=week_start)).isoformat())
    days = exp.DateDiff(this=day, expression=anchor, unit=exp.var("DAY"))
    seven = exp.Literal.number(7)
    # MOD twice: SQL gives a negative remainder for days before the anchor.
    positive = exp.Paren(this=exp.Add(this=exp.Mod(this=days, expression=seven), expression=seven))
    return exp.Mod(this=positive, expression=seven.copy())


_POSITIONS: Mapping[Unit, Callable[[exp.Expr, int], exp.Expr]] = MappingProxyType(
    {
        Unit.WEEKS: _days_into_week,
        Unit.MONTHS: _days_into("MONTH"),
        Unit.QUARTERS: _days_into("QUARTER"),
        Unit.YEARS: _days_into("YEAR"),
    }
)
PERIOD_UNITS = frozenset(_POSITIONS)


def days_into_period_sql(column: exp.Expr, unit: Unit, week_start: int = 0) -> exp.Expr:
    """SQL twin of `days_into_period` for each row's own period (the column cast to DATE)."""
    return _POSITIONS[unit](exp.cast(column, exp.DataType.Type.DATE), week_start)
