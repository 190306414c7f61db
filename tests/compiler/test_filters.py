"""Filter conditions: every (type, operator) pair executed on DuckDB against a Python oracle,
rendered and re-parsed in other dialects; SPEC examples as SQL strings; hostile values."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp, parse_one

from metricql.compiler.sql.filters import (
    CLOCK_OPERATORS,
    OPERATORS,
    FilterContext,
    filter_condition,
    group_condition,
)
from metricql.dialects import SUPPORTED
from metricql.errors import QueryError
from metricql.query.model import AndGroup, FilterOperator, FilterRule, OrGroup
from metricql.semantic.fields import DimensionType

Op = FilterOperator
T = DimensionType
STR, NUM, BOOL, DAY, TIME = T.STRING, T.NUMBER, T.BOOLEAN, T.DATE, T.TIMESTAMP
D, TS = date, datetime
NOW = datetime(2020, 4, 4, 6, 12, 30, tzinfo=timezone.utc)  # a Saturday
CTX = FilterContext(now=NOW)
COLUMN = exp.column("v", table="t")
DIALECTS = ("duckdb", "postgres", "bigquery", "snowflake")
OTHER_DIALECTS = tuple(d for d in SUPPORTED if d not in DIALECTS)
HOSTILE = ("'); DROP TABLE orders; --", "O'Brien", "50%", "a_b", "x\\y")

# --- data: one table per type, ids are 1-based positions ---------------------------------------

STRINGS: list[str | None] = [
    "Bob", "bob", "BOB", "Bob's", "Tom's", *HOSTILE, "500", "axb", "xy", "x\\\\y", "a!b", "ab",
    "-- not a comment", "/* kept */ x", "Émile", "émile", "café", "CAFÉ", "naïve 日本語", "%", "_",
    "", " Bob", None,
]  # fmt: skip
NUMBERS: list[float | None] = [1, 2.5, -3, 0, 100, 1000, 1e-5, 2, 5, 10, -0.5, 123456789.125, None]
BOOLEANS: list[bool | None] = [True, False, None, True, False]
DATES: list[date | None] = [
    D(2020, 4, 4), D(2020, 4, 3), D(2020, 4, 5), D(2020, 4, 6), D(2020, 3, 21), D(2020, 3, 22),
    D(2020, 3, 23), D(2020, 3, 28), D(2020, 3, 29), D(2020, 3, 30), D(2020, 4, 1), D(2020, 3, 31),
    D(2020, 3, 1), D(2020, 2, 29), D(2020, 6, 30), D(2020, 7, 1), D(2020, 5, 1), D(2020, 5, 15),
    D(2019, 1, 1), D(2019, 12, 31), D(2020, 1, 1), D(2021, 4, 4), D(2023, 4, 4), D(2019, 4, 3),
    D(2019, 2, 14), D(2018, 1, 3), D(2019, 7, 2), D(2019, 10, 1), D(1899, 12, 27),
    D(1899, 12, 31), D(1970, 1, 4), D(1969, 12, 28), None,
]  # fmt: skip
TIMESTAMPS: list[datetime | None] = [
    TS(2020, 4, 4, 6, 12, 30), TS(2020, 4, 4, 6, 12, 29, 999999), TS(2020, 4, 4, 6, 12, 30, 1),
    TS(2020, 4, 4, 7, 12, 30), TS(2020, 4, 4, 7, 12, 31), TS(2020, 4, 3, 6, 12, 30),
    TS(2020, 4, 3, 6, 12, 29), TS(2020, 4, 4), TS(2020, 4, 3, 23, 59, 59, 500000),
    TS(2020, 4, 4, 23, 59, 59, 999999), TS(2020, 4, 5), TS(2020, 4, 5, 3, 59, 59),
    TS(2020, 4, 5, 4), TS(2020, 4, 4, 4), TS(2020, 4, 4, 3, 59, 59, 999999), TS(2020, 4, 6),
    TS(2020, 3, 29), TS(2020, 3, 30), TS(2020, 3, 28, 23, 59, 59), TS(2020, 4, 1),
    TS(2020, 6, 30, 23, 59, 59, 999999), TS(2020, 7, 1), TS(2020, 4, 3, 17),
    TS(2020, 4, 3, 16, 59, 59), TS(2020, 4, 3, 12), TS(2021, 4, 4, 10), TS(2019, 2, 14, 9, 30),
    TS(2019, 12, 31, 23), None,
]  # fmt: skip
ROWS: dict[T, list[Any]] = {
    STR: STRINGS, NUM: NUMBERS, BOOL: BOOLEANS, DAY: DATES, TIME: TIMESTAMPS,
}  # fmt: skip
SQL_TYPES = {STR: "VARCHAR", NUM: "DOUBLE", BOOL: "BOOLEAN", DAY: "DATE", TIME: "TIMESTAMP"}


@pytest.fixture(scope="module")
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    for kind, rows in ROWS.items():
        conn.execute(f"CREATE TABLE t_{kind.value} (id INTEGER, v {SQL_TYPES[kind]})")
        conn.executemany(f"INSERT INTO t_{kind.value} VALUES (?, ?)", list(enumerate(rows, 1)))
    conn.execute("CREATE TABLE orders (id INTEGER)")  # the injection target must survive
    yield conn
    conn.close()


def selected(conn: duckdb.DuckDBPyConnection, kind: T, condition: exp.Expression) -> set[int]:
    sql = f"SELECT id FROM t_{kind.value} AS t WHERE {condition.sql('duckdb')}"
    return {row[0] for row in conn.execute(sql).fetchall()}


def rule(
    op: str | Op, *values: Any, unit: str | None = None, completed: bool = False, **extra: Any
) -> FilterRule:
    """A rule on `t_v`; `op` as in Lightdash JSON (`"inThePast"`) or a FilterOperator."""
    return FilterRule.model_validate(
        {
            "target": {"fieldId": "t_v"},
            "operator": Op(op).value,
            "values": list(values),
            "settings": {"unitOfTime": unit, "completed": completed} if unit else None,
            **extra,
        }
    )


# --- the oracle table ------------------------------------------------------------------------

Want = Callable[[Any], bool]


@dataclass(frozen=True)
class Case:
    """A rule on a field of `kind`, and which values it must select (a None-aware predicate)."""

    kind: T
    rule: FilterRule
    want: Want
    ctx: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        r = self.rule
        unit = f"-{r.settings.unit_of_time.value}" if r.settings and r.settings.unit_of_time else ""
        done = "-completed" if r.settings and r.settings.completed else ""
        return f"{self.kind.value}-{r.operator.value}{unit}{done}-{list(r.values)!r}-{self.ctx}"


def case(kind: T, r: FilterRule, want: Want, **ctx: Any) -> Case:
    return Case(kind, r, want, ctx)


def nn(test: Want) -> Want:
    """Only non-NULL values can match."""
    return lambda v: v is not None and test(v)


def or_null(test: Want) -> Want:
    """NULLs match too (negative operators)."""
    return lambda v: v is None or test(v)


def everything(_: Any) -> bool:
    return True


def within(lo: Any, hi: Any, end: str = "<=") -> Want:
    return nn(lambda v: lo <= v and (v <= hi if end == "<=" else v < hi))


def outside(lo: Any, hi: Any, end: str = "<=") -> Want:
    inside = within(lo, hi, end)
    return lambda v: not inside(v)


def up(text: str) -> str:
    return text.upper()


def quarter_day(v: date) -> int:
    """Days since the first day of `v`'s quarter."""
    start = D(v.year, (v.month - 1) // 3 * 3 + 1, 1)
    return ((v.date() if isinstance(v, datetime) else v) - start).days


NOCASE = {"caseSensitive": False}
STRING_CASES = [
    case(STR, rule("isNull"), lambda v: v is None),
    case(STR, rule("notNull"), lambda v: v is not None),
    case(STR, rule("equals", "Bob"), nn(lambda v: v == "Bob")),
    case(STR, rule("equals", *HOSTILE), nn(lambda v: v in HOSTILE)),
    case(STR, rule("equals"), everything),
    case(STR, rule("equals", None), everything),
    case(STR, rule("equals", ""), nn(lambda v: v == "")),
    case(STR, rule("equals", 500), nn(lambda v: v == "500")),
    case(STR, rule("equals", "bob", **NOCASE), nn(lambda v: up(v) == "BOB")),
    case(STR, rule("equals", "bob"), nn(lambda v: up(v) == "BOB"), case_sensitive=False),
    case(STR, rule("equals", "bob", caseSensitive=True), nn(lambda v: v == "bob"),
         case_sensitive=False),
    case(STR, rule("equals", "ÉMILE", "Café", **NOCASE), nn(lambda v: up(v) in ("ÉMILE", "CAFÉ"))),
    case(STR, rule("equals", "Bob", includeNull=True), lambda v: v in ("Bob", None)),
    case(STR, rule("equals", includeNull=True), lambda v: v is None),
    case(STR, rule("notEquals", "Bob"), or_null(lambda v: v != "Bob")),
    case(STR, rule("notEquals", "Bob", "O'Brien"), or_null(lambda v: v not in ("Bob", "O'Brien"))),
    case(STR, rule("notEquals", "bob", **NOCASE), or_null(lambda v: up(v) != "BOB")),
    case(STR, rule("notEquals"), everything),
    case(STR, rule("include", "0%"), nn(lambda v: "0%" in v)),
    case(STR, rule("include", "_"), nn(lambda v: "_" in v)),
    case(STR, rule("include", "\\"), nn(lambda v: "\\" in v)),
    case(STR, rule("include", "!"), nn(lambda v: "!" in v)),
    case(STR, rule("include", "--"), nn(lambda v: "--" in v)),
    case(STR, rule("include", "ob", "x"), nn(lambda v: "ob" in v or "x" in v)),
    case(STR, rule("include", "ob", **NOCASE), nn(lambda v: "OB" in up(v))),
    case(STR, rule("include", "日本"), nn(lambda v: "日本" in v)),
    case(STR, rule("include", ""), everything),
    case(STR, rule("doesNotInclude", "%"), or_null(lambda v: "%" not in v)),
    case(STR, rule("doesNotInclude", "ob", "x"), or_null(lambda v: "ob" not in v and "x" not in v)),
    case(STR, rule("doesNotInclude", "É", **NOCASE), or_null(lambda v: "É" not in up(v))),
    case(STR, rule("doesNotInclude"), everything),
    case(STR, rule("startsWith", "50%"), nn(lambda v: v.startswith("50%"))),
    case(STR, rule("startsWith", "x\\"), nn(lambda v: v.startswith("x\\"))),
    case(STR, rule("startsWith", "a_", "Bo"), nn(lambda v: v.startswith(("a_", "Bo")))),
    case(STR, rule("startsWith", "bo", **NOCASE), nn(lambda v: up(v).startswith("BO"))),
    case(STR, rule("startsWith", "'); DROP"), nn(lambda v: v.startswith("'); DROP"))),
    case(STR, rule("endsWith", "%"), nn(lambda v: v.endswith("%"))),
    case(STR, rule("endsWith", "--"), nn(lambda v: v.endswith("--"))),
    case(STR, rule("endsWith", "'s"), nn(lambda v: v.endswith("'s"))),
    case(STR, rule("endsWith", "É", **NOCASE), nn(lambda v: up(v).endswith("É"))),
]  # fmt: skip

NUMBER_CASES = [
    case(NUM, rule("isNull"), lambda v: v is None),
    case(NUM, rule("notNull"), lambda v: v is not None),
    case(NUM, rule("equals", 1), nn(lambda v: v == 1)),
    case(NUM, rule("equals", "2.5", 100, Decimal("-3")), nn(lambda v: v in (2.5, 100, -3))),
    case(NUM, rule("equals", " 1e3 ", 1e-5), nn(lambda v: v in (1000, 1e-5))),
    case(NUM, rule("equals", 123456789.125), nn(lambda v: v == 123456789.125)),
    case(NUM, rule("equals"), everything),
    case(NUM, rule("notEquals", 1, 2.5), or_null(lambda v: v not in (1, 2.5))),
    case(NUM, rule("notEquals", -3), or_null(lambda v: v != -3)),
    case(NUM, rule("lessThan", 2), nn(lambda v: v < 2)),
    case(NUM, rule("lessThan", "-0.5"), nn(lambda v: v < -0.5)),
    case(NUM, rule("lessThanOrEqual", "2"), nn(lambda v: v <= 2)),
    case(NUM, rule("greaterThan", -0.5), nn(lambda v: v > -0.5)),
    case(NUM, rule("greaterThan", 5, 1000), nn(lambda v: v > 5)),
    case(NUM, rule("greaterThan"), everything),
    case(NUM, rule("greaterThanOrEqual", Decimal("100")), nn(lambda v: v >= 100)),
    case(NUM, rule("inBetween", 0, 10), within(0, 10)),
    case(NUM, rule("inBetween", -3, "2.5"), within(-3, 2.5)),
    case(NUM, rule("inBetween", 5), everything),
    case(NUM, rule("notInBetween", 0, 10), outside(0, 10)),
    case(NUM, rule("notInBetween"), everything),
]  # fmt: skip

BOOLEAN_CASES = [
    case(BOOL, rule("isNull"), lambda v: v is None),
    case(BOOL, rule("notNull"), lambda v: v is not None),
    case(BOOL, rule("equals", True), nn(lambda v: v is True)),
    case(BOOL, rule("equals", "false"), nn(lambda v: v is False)),
    case(BOOL, rule("equals", " TRUE "), nn(lambda v: v is True)),
    case(BOOL, rule("equals", True, False), lambda v: v is not None),
    case(BOOL, rule("equals"), everything),
    case(BOOL, rule("equals", None), everything),
    case(BOOL, rule("notEquals", False), or_null(lambda v: v is not False)),
    case(BOOL, rule("notEquals", "True"), or_null(lambda v: v is not True)),
]  # fmt: skip

DATE_CASES = [
    case(DAY, rule("isNull"), lambda v: v is None),
    case(DAY, rule("notNull"), lambda v: v is not None),
    case(DAY, rule("equals", "2020-04-04"), nn(lambda v: v == D(2020, 4, 4))),
    case(DAY, rule("equals", D(2020, 4, 3), "2020-03-28"),
         nn(lambda v: v in (D(2020, 4, 3), D(2020, 3, 28)))),
    case(DAY, rule("equals", "2020-04-04T23:00:00Z"), nn(lambda v: v == D(2020, 4, 4))),
    case(DAY, rule("equals", "2020-04-04T23:00:00-05:00"), nn(lambda v: v == D(2020, 4, 5))),
    case(DAY, rule("equals", TS(2020, 4, 1, 12)), nn(lambda v: v == D(2020, 4, 1))),
    case(DAY, rule("notEquals", "2020-04-04"), or_null(lambda v: v != D(2020, 4, 4))),
    case(DAY, rule("lessThan", "2020-03-22"), nn(lambda v: v < D(2020, 3, 22))),
    case(DAY, rule("lessThanOrEqual", "2020-03-22"), nn(lambda v: v <= D(2020, 3, 22))),
    case(DAY, rule("greaterThan", "2020-04-04 10:00:00"), nn(lambda v: v > D(2020, 4, 4))),
    case(DAY, rule("greaterThanOrEqual", D(2020, 4, 4)), nn(lambda v: v >= D(2020, 4, 4))),
    case(DAY, rule("inBetween", "2020-03-29", "2020-04-04"), within(D(2020, 3, 29), D(2020, 4, 4))),
    case(DAY, rule("notInBetween", "2020-03-29", "2020-04-04"),
         outside(D(2020, 3, 29), D(2020, 4, 4))),
    # SPEC §8.44 (now 2020-04-04 06:12:30 UTC)
    case(DAY, rule("inThePast", 1, unit="days"), within(D(2020, 4, 3), D(2020, 4, 4))),
    case(DAY, rule("inThePast", 1, unit="days", completed=True), nn(lambda v: v == D(2020, 4, 3))),
    case(DAY, rule("inThePast", 1, unit="weeks"), within(D(2020, 3, 28), D(2020, 4, 4))),
    case(DAY, rule("inThePast", 1, unit="months", completed=True),
         within(D(2020, 3, 1), D(2020, 4, 1), "<")),
    case(DAY, rule("inThePast", 1, unit="years", completed=True), nn(lambda v: v.year == 2019)),
    case(DAY, rule("inThePast", 1, unit="weeks", completed=True),
         within(D(2020, 3, 23), D(2020, 3, 30), "<")),
    case(DAY, rule("inThePast", 1, unit="weeks", completed=True),
         within(D(2020, 3, 22), D(2020, 3, 29), "<"),
         week_start=6),
    case(DAY, rule("inThePast", 2, unit="quarters", completed=True),
         within(D(2019, 10, 1), D(2020, 4, 1), "<")),
    case(DAY, rule("inThePast", 14), within(D(2020, 3, 21), D(2020, 4, 4))),
    case(DAY, rule("inThePast"), everything),
    case(DAY, rule("notInThePast", 7, unit="days"), outside(D(2020, 3, 28), D(2020, 4, 4))),
    case(DAY, rule("inTheNext", 1, unit="days"), within(D(2020, 4, 4), D(2020, 4, 5))),
    case(DAY, rule("inTheNext", 1, unit="months", completed=True),
         within(D(2020, 5, 1), D(2020, 6, 1), "<")),
    case(DAY, rule("inTheNext", 2, unit="weeks", completed=True),
         within(D(2020, 4, 6), D(2020, 4, 20), "<")),
    case(DAY, rule("inTheCurrent", unit="weeks"), within(D(2020, 3, 30), D(2020, 4, 5))),
    case(DAY, rule("inTheCurrent", unit="months"), within(D(2020, 4, 1), D(2020, 4, 30))),
    case(DAY, rule("inTheCurrent", unit="quarters"), within(D(2020, 4, 1), D(2020, 6, 30))),
    case(DAY, rule("inTheCurrent", unit="years"), nn(lambda v: v.year == 2020)),
    case(DAY, rule("notInTheCurrent", unit="months"), outside(D(2020, 4, 1), D(2020, 4, 30))),
    # 2020-04-04: day 95 of the year, day 4 of the month, 3 days after the quarter began
    case(DAY, rule("inPeriodToDate", unit="years"), nn(lambda v: v.timetuple().tm_yday <= 95)),
    case(DAY, rule("inPeriodToDate", unit="months"), nn(lambda v: v.day <= 4)),
    case(DAY, rule("inPeriodToDate", unit="quarters"), nn(lambda v: quarter_day(v) <= 3)),
    case(DAY, rule("inPeriodToDate", unit="weeks"), nn(lambda v: v.weekday() <= 5)),
    case(DAY, rule("inPeriodToDate", unit="weeks"),
         nn(lambda v: (v.weekday() - 2) % 7 <= 3), week_start=2),
]  # fmt: skip

TIMESTAMP_CASES = [
    case(TIME, rule("isNull"), lambda v: v is None),
    case(TIME, rule("notNull"), lambda v: v is not None),
    case(TIME, rule("equals", "2020-04-04T06:12:30Z"),
         nn(lambda v: v == TS(2020, 4, 4, 6, 12, 30))),
    case(TIME, rule("equals", "2020-04-04 08:12:30+02:00", "2020-04-05"),
         nn(lambda v: v in (TS(2020, 4, 4, 6, 12, 30), TS(2020, 4, 5)))),
    case(TIME, rule("equals", TS(2020, 4, 3, 23, 59, 59, 500000)),
         nn(lambda v: v == TS(2020, 4, 3, 23, 59, 59, 500000))),
    case(TIME, rule("notEquals", "2020-04-04 00:00:00"), or_null(lambda v: v != TS(2020, 4, 4))),
    case(TIME, rule("lessThan", "2020-04-04"), nn(lambda v: v < TS(2020, 4, 4))),
    case(TIME, rule("lessThanOrEqual", "2020-04-04T00:00:00.000Z"),
         nn(lambda v: v <= TS(2020, 4, 4))),
    case(TIME, rule("greaterThan", D(2020, 4, 5)), nn(lambda v: v > TS(2020, 4, 5))),
    case(TIME, rule("greaterThanOrEqual", TS(2020, 4, 5, 5, tzinfo=timezone.utc)),
         nn(lambda v: v >= TS(2020, 4, 5, 5))),
    # SPEC §8.46: inBetween is inclusive, a date-only end is midnight
    case(TIME, rule("inBetween", "2020-04-04", "2020-04-05"),
         within(TS(2020, 4, 4), TS(2020, 4, 5))),
    case(TIME, rule("notInBetween", "2020-04-04", "2020-04-05"),
         outside(TS(2020, 4, 4), TS(2020, 4, 5))),
    case(TIME, rule("inThePast", 1, unit="days"),
         within(TS(2020, 4, 3, 6, 12, 30), TS(2020, 4, 4, 6, 12, 30))),
    case(TIME, rule("inThePast", 1, unit="days", completed=True),
         within(TS(2020, 4, 3), TS(2020, 4, 4), "<")),
    case(TIME, rule("inThePast", 500, unit="milliseconds"),
         within(TS(2020, 4, 4, 6, 12, 29, 500000), TS(2020, 4, 4, 6, 12, 30))),
    case(TIME, rule("inThePast", 1, unit="seconds", completed=True),
         within(TS(2020, 4, 4, 6, 12, 29), TS(2020, 4, 4, 6, 12, 30), "<")),
    case(TIME, rule("inThePast", 7, unit="hours", completed=True),
         within(TS(2020, 4, 3, 23), TS(2020, 4, 4, 6), "<")),
    case(TIME, rule("notInThePast", 1, unit="days"),
         outside(TS(2020, 4, 3, 6, 12, 30), TS(2020, 4, 4, 6, 12, 30))),
    # SPEC §8.45
    case(TIME, rule("inTheNext", 1, unit="hours"),
         within(TS(2020, 4, 4, 6, 12, 30), TS(2020, 4, 4, 7, 12, 30))),
    case(TIME, rule("inTheNext", 1, unit="days", completed=True),
         within(TS(2020, 4, 5), TS(2020, 4, 6), "<")),
    case(TIME, rule("inTheNext", 90, unit="minutes"),
         within(TS(2020, 4, 4, 6, 12, 30), TS(2020, 4, 4, 7, 42, 30))),
    case(TIME, rule("inTheCurrent", unit="quarters"), within(TS(2020, 4, 1), TS(2020, 7, 1), "<")),
    case(TIME, rule("inTheCurrent", unit="weeks"),
         within(TS(2020, 3, 29), TS(2020, 4, 5), "<"), week_start=6),
    case(TIME, rule("inTheCurrent", unit="weeks"), within(TS(2020, 3, 30), TS(2020, 4, 6), "<")),
    case(TIME, rule("inTheCurrent", unit="seconds"),
         within(TS(2020, 4, 4, 6, 12, 30), TS(2020, 4, 4, 6, 12, 31), "<")),
    # SPEC §6.11: "in the current day" in other timezones
    case(TIME, rule("inTheCurrent", unit="days"), within(TS(2020, 4, 4), TS(2020, 4, 5), "<")),
    case(TIME, rule("inTheCurrent", unit="days"), within(TS(2020, 4, 4, 4), TS(2020, 4, 5, 4), "<"),
         timezone="America/New_York"),
    case(TIME, rule("inTheCurrent", unit="days"),
         within(TS(2020, 4, 3, 17), TS(2020, 4, 4, 17), "<"),
         timezone="Asia/Bangkok"),
    case(TIME, rule("inTheCurrent", unit="days"),
         within(TS(2020, 4, 3, 12), TS(2020, 4, 4, 12), "<"),
         timezone="Pacific/Fiji"),
    case(TIME, rule("notInTheCurrent", unit="days"), outside(TS(2020, 4, 4), TS(2020, 4, 5), "<")),
    case(TIME, rule("inPeriodToDate", unit="years"), nn(lambda v: v.timetuple().tm_yday <= 95)),
    case(TIME, rule("inPeriodToDate", unit="months"), nn(lambda v: v.day <= 4)),
    case(TIME, rule("inPeriodToDate", unit="quarters"), nn(lambda v: quarter_day(v) <= 3)),
    case(TIME, rule("inPeriodToDate", unit="weeks"), nn(lambda v: v.weekday() <= 5)),
]  # fmt: skip

CASES = STRING_CASES + NUMBER_CASES + BOOLEAN_CASES + DATE_CASES + TIMESTAMP_CASES


def condition_for(c: Case, dialect: str = "duckdb") -> exp.Expression:
    return filter_condition(c.rule, COLUMN, c.kind, "t_v", replace(CTX, dialect=dialect, **c.ctx))


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_condition_selects_what_python_selects(c: Case, duck: duckdb.DuckDBPyConnection) -> None:
    want = {i for i, v in enumerate(ROWS[c.kind], 1) if c.want(v)}
    assert selected(duck, c.kind, condition_for(c)) == want


@pytest.mark.parametrize("dialect", DIALECTS + OTHER_DIALECTS)
@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_condition_renders_and_parses_back(c: Case, dialect: str) -> None:
    sql = condition_for(c, dialect).sql(dialect)
    assert parse_one(sql, read=dialect) is not None


# --- the operator table ---------------------------------------------------------------------

TEXT_OPS = {Op.STARTS_WITH, Op.ENDS_WITH, Op.INCLUDE, Op.DOES_NOT_INCLUDE}
RELATIVE_OPS = {
    Op.IN_THE_PAST, Op.NOT_IN_THE_PAST, Op.IN_THE_NEXT, Op.IN_THE_CURRENT,
    Op.NOT_IN_THE_CURRENT, Op.IN_PERIOD_TO_DATE,
}  # fmt: skip
ORDER_OPS = {
    Op.LESS_THAN, Op.LESS_THAN_OR_EQUAL, Op.GREATER_THAN, Op.GREATER_THAN_OR_EQUAL,
    Op.IN_BETWEEN, Op.NOT_IN_BETWEEN,
}  # fmt: skip
INVALID: dict[T, set[Op]] = {  # written out, not derived from OPERATORS
    STR: ORDER_OPS | RELATIVE_OPS,
    NUM: TEXT_OPS | RELATIVE_OPS,
    BOOL: TEXT_OPS | ORDER_OPS | RELATIVE_OPS,
    DAY: TEXT_OPS,
    TIME: TEXT_OPS,
}
INVALID_PAIRS = sorted((k, op) for k, ops in INVALID.items() for op in ops)


def test_every_pair_is_either_built_or_listed_invalid() -> None:
    for kind in T:
        assert set(OPERATORS[kind]).isdisjoint(INVALID[kind]), kind
        assert set(OPERATORS[kind]) | INVALID[kind] == set(Op), kind


def test_clock_operators_are_exactly_those_reading_now() -> None:
    """A condition changes with the clock iff its operator is in CLOCK_OPERATORS."""
    later = replace(CTX, now=datetime(2031, 11, 19, 23, 5, tzinfo=timezone.utc))
    moved: dict[Op, bool] = {}
    for c in CASES:
        before = filter_condition(c.rule, COLUMN, c.kind, "t_v", replace(CTX, **c.ctx))
        after = filter_condition(c.rule, COLUMN, c.kind, "t_v", replace(later, **c.ctx))
        moved[c.rule.operator] = moved.get(c.rule.operator, False) or before != after
    assert {op for op, changed in moved.items() if changed} == CLOCK_OPERATORS
    assert CLOCK_OPERATORS == RELATIVE_OPS


def test_every_valid_pair_is_executed() -> None:
    valid = {(kind, op) for kind in T for op in OPERATORS[kind]}
    assert valid == {(c.kind, c.rule.operator) for c in CASES}
    assert len(valid) == 54


@pytest.mark.parametrize(("kind", "op"), INVALID_PAIRS, ids=lambda x: getattr(x, "value", x))
def test_invalid_pair_raises_naming_operator_field_and_type(kind: T, op: Op) -> None:
    with pytest.raises(QueryError) as info:
        filter_condition(rule(op, "1", unit="days"), COLUMN, kind, "orders_x", CTX)
    text = str(info.value)
    assert op.value in text and "orders_x" in text and kind.value in text
    assert info.value.hint and all(valid.value in info.value.hint for valid in OPERATORS[kind])
    assert info.value.to_dict()["field"] == "orders_x"


# --- SPEC examples as SQL -------------------------------------------------------------------

DAY_COL = exp.column("created", table="customers")


def spec_sql(kind: T, r: FilterRule, **ctx: Any) -> str:
    return filter_condition(r, DAY_COL, kind, "customers_created", replace(CTX, **ctx)).sql()


def between(lo: str, hi: str, kind: str = "DATE", end: str = "<=") -> str:
    col = "customers.created"
    return f"({col} >= CAST('{lo}' AS {kind}) AND {col} {end} CAST('{hi}' AS {kind}))"


SPEC_DATES = [  # SPEC §8.44 and §8.46 on a DATE field, now 2020-04-04 06:12:30 UTC
    (rule("inThePast", 1, unit="days"), {}, ("2020-04-03", "2020-04-04", "<=")),
    (rule("inThePast", 1, unit="days", completed=True), {}, ("2020-04-03", "2020-04-04", "<")),
    (rule("inThePast", 1, unit="weeks"), {}, ("2020-03-28", "2020-04-04", "<=")),
    (rule("inThePast", 1, unit="months", completed=True), {}, ("2020-03-01", "2020-04-01", "<")),
    (rule("inThePast", 1, unit="years", completed=True), {}, ("2019-01-01", "2020-01-01", "<")),
    (rule("inThePast", 1, unit="weeks", completed=True), {}, ("2020-03-23", "2020-03-30", "<")),
    (rule("inThePast", 1, unit="weeks", completed=True), {"week_start": 6},
     ("2020-03-22", "2020-03-29", "<")),
    (rule("inBetween", "2021-04-04", "2023-04-04"), {}, ("2021-04-04", "2023-04-04", "<=")),
]  # fmt: skip
SPEC_TIMESTAMPS = [  # SPEC §8.45, §8.46 and §6.11 on a TIMESTAMP field, literals in UTC
    (rule("inTheNext", 1, unit="hours"), {}, ("2020-04-04 06:12:30", "2020-04-04 07:12:30", "<=")),
    (rule("inTheNext", 1, unit="days", completed=True), {},
     ("2020-04-05 00:00:00", "2020-04-06 00:00:00", "<")),
    (rule("inTheCurrent", unit="quarters"), {},
     ("2020-04-01 00:00:00", "2020-06-30 23:59:59.999999", "<=")),
    (rule("inTheCurrent", unit="weeks"), {"week_start": 6},
     ("2020-03-29 00:00:00", "2020-04-04 23:59:59.999999", "<=")),
    (rule("inTheCurrent", unit="weeks"), {},
     ("2020-03-30 00:00:00", "2020-04-05 23:59:59.999999", "<=")),
    (rule("inBetween", "2021-04-04", "2023-04-04"), {},
     ("2021-04-04 00:00:00", "2023-04-04 00:00:00", "<=")),
    (rule("inTheCurrent", unit="days"), {},
     ("2020-04-04 00:00:00", "2020-04-04 23:59:59.999999", "<=")),
    (rule("inTheCurrent", unit="days"), {"timezone": "America/New_York"},
     ("2020-04-04 04:00:00", "2020-04-05 03:59:59.999999", "<=")),
    (rule("inTheCurrent", unit="days"), {"timezone": "Asia/Bangkok"},
     ("2020-04-03 17:00:00", "2020-04-04 16:59:59.999999", "<=")),
    (rule("inTheCurrent", unit="days"), {"timezone": "Pacific/Fiji"},
     ("2020-04-03 12:00:00", "2020-04-04 11:59:59.999999", "<=")),
]  # fmt: skip


@pytest.mark.parametrize(("r", "ctx", "want"), SPEC_DATES)
def test_spec_relative_dates_on_date_fields(
    r: FilterRule, ctx: dict[str, Any], want: tuple[str, str, str]
) -> None:
    lo, hi, end = want
    assert spec_sql(DAY, r, **ctx) == between(lo, hi, "DATE", end)


@pytest.mark.parametrize(("r", "ctx", "want"), SPEC_TIMESTAMPS)
def test_spec_relative_dates_on_timestamp_fields(
    r: FilterRule, ctx: dict[str, Any], want: tuple[str, str, str]
) -> None:
    lo, hi, end = want
    assert spec_sql(TIME, r, **ctx) == between(lo, hi, "TIMESTAMP", end)


def test_date_fields_ignore_the_query_timezone() -> None:
    """SPEC §4.3: relative boundaries of DATE fields are computed in UTC."""
    r = rule("inTheCurrent", unit="days")
    assert spec_sql(DAY, r, timezone="Pacific/Fiji") == between("2020-04-04", "2020-04-04")


def test_current_day_across_a_daylight_saving_change() -> None:
    """2020-03-08 in New York has 23 hours; a day back keeps the wall clock."""
    ctx = {"timezone": "America/New_York", "now": datetime(2020, 3, 8, 12, tzinfo=timezone.utc)}
    current = spec_sql(TIME, rule("inTheCurrent", unit="days"), **ctx)
    assert current == between("2020-03-08 05:00:00", "2020-03-09 03:59:59.999999", "TIMESTAMP")
    past = spec_sql(TIME, rule("inThePast", 1, unit="days"), **ctx)
    assert past == between("2020-03-07 13:00:00", "2020-03-08 12:00:00", "TIMESTAMP")


NOCASE_CTX = {"case_sensitive": False}
SPEC_SHAPES = [  # SPEC §8.47, §8.48, §8.50 and §4.3 (whitespace and parentheses aside)
    (STR, rule("equals", "Bob's", "Tom's"), {}, "t.v IN ('Bob''s', 'Tom''s')"),
    (STR, rule("equals", "Bob"), NOCASE_CTX, "UPPER(t.v) = UPPER('Bob')"),
    (STR, rule("equals", 1), NOCASE_CTX, "UPPER(t.v) = UPPER('1')"),
    (STR, rule("include", "Bob"), NOCASE_CTX, "UPPER(t.v) LIKE UPPER('%Bob%') ESCAPE '!'"),
    (STR, rule("include", "50%_!"), {}, "t.v LIKE '%50!%!_!!%' ESCAPE '!'"),
    (STR, rule("startsWith", "a", "b"), {},
     "(t.v LIKE 'a%' ESCAPE '!' OR t.v LIKE 'b%' ESCAPE '!')"),
    (STR, rule("notEquals", "a"), {}, "(t.v <> 'a' OR t.v IS NULL)"),
    (STR, rule("doesNotInclude", "a"), {}, "(NOT t.v LIKE '%a%' ESCAPE '!' OR t.v IS NULL)"),
    (STR, rule("notNull"), {}, "NOT t.v IS NULL"),
    (BOOL, rule("equals", "false"), {}, "t.v = FALSE"),
    (BOOL, rule("notEquals", False), {}, "(t.v <> FALSE OR t.v IS NULL)"),
    (BOOL, rule("equals"), {}, "TRUE"),
    (NUM, rule("equals", 1, 2), {}, "t.v IN (1, 2)"),
    (NUM, rule("notEquals", 1, 2), {}, "(NOT t.v IN (1, 2) OR t.v IS NULL)"),
    (NUM, rule("lessThan", -2.5), {}, "t.v < -2.5"),
    (NUM, rule("inBetween", 1, 5), {}, "(t.v >= 1 AND t.v <= 5)"),
    (NUM, rule("notInBetween", 1, 5), {}, "(NOT (t.v >= 1 AND t.v <= 5) OR t.v IS NULL)"),
    (NUM, rule("equals", 1, disabled=True), {}, "TRUE"),
    (DAY, rule("inPeriodToDate", unit="months"), {},
     "DATE_DIFF('DAY', DATE_TRUNC('MONTH', CAST(t.v AS DATE)), CAST(t.v AS DATE)) <= 3"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "r", "ctx", "want"), SPEC_SHAPES)
def test_condition_shapes(kind: T, r: FilterRule, ctx: dict[str, Any], want: str) -> None:
    assert filter_condition(r, COLUMN, kind, "t_v", replace(CTX, **ctx)).sql("duckdb") == want


BQ, PG, SF, CH = "bigquery", "postgres", "snowflake", "clickhouse"
DIALECT_SHAPES = [  # where a dialect's LIKE has no ESCAPE, or its literals differ
    (BQ, STR, rule("startsWith", "50%"), "STARTS_WITH(t.v, '50%')"),
    (BQ, STR, rule("endsWith", "a_b"), "ENDS_WITH(t.v, 'a_b')"),
    (BQ, STR, rule("include", "x\\y", **NOCASE), "INSTR(UPPER(t.v), UPPER('x\\\\y')) > 0"),
    (BQ, TIME, rule("equals", "2020-01-01"), "t.v = '2020-01-01 00:00:00'"),
    (PG, STR, rule("endsWith", "x\\y"), "t.v LIKE '%x\\y' ESCAPE '!'"),
    (PG, TIME, rule("equals", "2020-01-01"), "t.v = CAST('2020-01-01 00:00:00' AS TIMESTAMP)"),
    (SF, STR, rule("startsWith", "O'B"), "t.v LIKE 'O\\'B%' ESCAPE '!'"),
    (CH, STR, rule("startsWith", "50%"), "startsWith(t.v, '50%')"),
    (CH, TIME, rule("equals", "2020-01-01"), "t.v = CAST('2020-01-01 00:00:00' AS DateTime64(6))"),
]  # fmt: skip


@pytest.mark.parametrize(("dialect", "kind", "r", "want"), DIALECT_SHAPES)
def test_dialect_shapes(dialect: str, kind: T, r: FilterRule, want: str) -> None:
    condition = filter_condition(r, COLUMN, kind, "t_v", replace(CTX, dialect=dialect))
    assert condition.sql(dialect) == want


# --- values ---------------------------------------------------------------------------------

LIKE_PATTERNS = {Op.INCLUDE: "%{}%", Op.STARTS_WITH: "{}%", Op.ENDS_WITH: "%{}"}
FUNCTION_DIALECTS = (BQ, "clickhouse")  # no LIKE ... ESCAPE there


def escaped(value: str) -> str:
    return value.replace("!", "!!").replace("%", "!%").replace("_", "!_")


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("dialect", DIALECTS + OTHER_DIALECTS)
@pytest.mark.parametrize("op", [Op.EQUALS, *LIKE_PATTERNS])
def test_hostile_values_round_trip_as_one_literal(value: str, dialect: str, op: Op) -> None:
    ctx = replace(CTX, dialect=dialect)
    sql = filter_condition(rule(op, value), COLUMN, STR, "t_v", ctx).sql(dialect)
    parsed = parse_one(sql, read=dialect)
    texts = [lit.this for lit in parsed.find_all(exp.Literal) if lit.is_string and lit.this != "!"]
    if op is Op.EQUALS or dialect in FUNCTION_DIALECTS:
        assert texts == [value]
    else:
        assert texts == [LIKE_PATTERNS[op].format(escaped(value))]
    assert parsed.sql(dialect) == sql
    assert not list(parsed.find_all(exp.Drop, exp.Command))


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_select_their_row(value: str, duck: duckdb.DuckDBPyConnection) -> None:
    condition = filter_condition(rule("equals", value), COLUMN, STR, "t_v", CTX)
    assert selected(duck, STR, condition) == {STRINGS.index(value) + 1}
    assert duck.execute("SELECT count(*) FROM orders").fetchall() == [(0,)]


TEXT_CHECKS: dict[str, Callable[[str, str], bool]] = {
    "equals": lambda v, text: v == text,
    "include": lambda v, text: text in v,
    "startsWith": lambda v, text: v.startswith(text),
    "endsWith": lambda v, text: v.endswith(text),
}


@given(st.text(alphabet="ab%_!\\'\"-é ", max_size=6))
@settings(max_examples=150, deadline=None, database=None)
def test_text_matching_is_literal_for_any_text(text: str) -> None:
    rows = [*STRINGS, text]
    conn = duckdb.connect()
    conn.execute("CREATE TABLE t_string (id INTEGER, v VARCHAR)")
    conn.executemany("INSERT INTO t_string VALUES (?, ?)", list(enumerate(rows, 1)))
    for op, check in TEXT_CHECKS.items():
        condition = filter_condition(rule(op, text), COLUMN, STR, "t_v", CTX)
        if op != "equals" and not text:  # an empty pattern filters nothing
            want = set(range(1, len(rows) + 1))
        else:
            want = {i for i, v in enumerate(rows, 1) if v is not None and check(v, text)}
        assert selected(conn, STR, condition) == want, op


BAD_VALUES = [
    (NUM, rule("equals", "1) OR 1=1; --"), "1) OR 1=1; --"),  # SPEC §8.49
    (NUM, rule("equals", 1, "NaN"), "NaN"),
    (NUM, rule("greaterThan", float("inf")), "inf"),
    (NUM, rule("lessThan", Decimal("-Infinity")), "Infinity"),
    (NUM, rule("equals", True), "True"),
    (NUM, rule("equals", ""), "''"),
    (NUM, rule("inBetween", 1, [2]), "[2]"),
    (BOOL, rule("equals", "yes"), "yes"),
    (BOOL, rule("equals", 1), "1"),
    (STR, rule("equals", {"a": 1}), "{'a': 1}"),
    (DAY, rule("equals", "yesterday"), "yesterday"),
    (TIME, rule("greaterThan", 1586000000), "1586000000"),
    (DAY, rule("inThePast", -1, unit="days"), "-1"),
    (DAY, rule("inThePast", 1.5, unit="days"), "1.5"),
    (TIME, rule("inTheNext", "soon", unit="days"), "soon"),
    (TIME, rule("inTheNext", 10**6, unit="years"), "1000000"),
    (DAY, rule("inThePast", 10**12, unit="hours", completed=True), "1000000000000"),
]


@pytest.mark.parametrize(("kind", "r", "shown"), BAD_VALUES)
def test_bad_values_raise_naming_field_and_value(kind: T, r: FilterRule, shown: str) -> None:
    with pytest.raises(QueryError) as info:
        filter_condition(r, COLUMN, kind, "orders_amount", CTX)
    assert "orders_amount" in str(info.value) and shown in str(info.value)
    assert info.value.hint


@pytest.mark.parametrize("settings_", [None, {"unitOfTime": "days"}, {"completed": True}])
def test_period_to_date_requires_a_period_unit(settings_: dict[str, Any] | None) -> None:
    r = FilterRule.model_validate(
        {"target": {"fieldId": "x"}, "operator": "inPeriodToDate", "settings": settings_}
    )
    with pytest.raises(QueryError, match="unitOfTime"):
        filter_condition(r, COLUMN, DAY, "x", CTX)


def test_relative_filters_default_to_days() -> None:
    assert spec_sql(DAY, rule("inThePast", 2)) == between("2020-04-02", "2020-04-04")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"week_start": 7}, "week start"), ({"timezone": "Mars/Base"}, "timezone")],
)
def test_context_is_validated(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(QueryError, match=message):
        FilterContext(now=NOW, **kwargs)


def test_naive_now_is_utc() -> None:
    r = rule("inTheCurrent", unit="days")
    assert spec_sql(TIME, r, now=NOW.replace(tzinfo=None)) == spec_sql(TIME, r)


def test_column_is_copied_never_mutated() -> None:
    column = exp.func("COALESCE", exp.column("v", table="t"), exp.Literal.string(""))
    before = column.sql()
    for c in CASES:
        condition = filter_condition(c.rule, column, c.kind, "t_v", CTX)
        assert all(node is not column for node in condition.walk())
    assert column.sql() == before and column.parent is None


# --- groups ---------------------------------------------------------------------------------


def group(kind: str, *items: Any) -> AndGroup | OrGroup:
    model = AndGroup if kind == "and" else OrGroup
    return model.model_validate({"id": "g", kind: list(items)})


def resolve_number(r: FilterRule) -> exp.Expression:
    return filter_condition(r, COLUMN, NUM, r.target.field_id, CTX)


def test_nested_groups_execute(duck: duckdb.DuckDBPyConnection) -> None:
    tree = group(  # and[ or[v < 0, v > 100], notNull, and[or[]] ]
        "and",
        group("or", rule("lessThan", 0), rule("greaterThan", 100)),
        rule("notNull"),
        group("and", group("or")),
    )
    condition = group_condition(tree, resolve_number)
    assert condition is not None
    assert condition.sql() == "((t.v < 0 OR t.v > 100) AND NOT t.v IS NULL)"
    want = {i for i, v in enumerate(NUMBERS, 1) if v is not None and (v < 0 or v > 100)}
    assert selected(duck, NUM, condition) == want


def test_negative_rules_keep_their_precedence(duck: duckdb.DuckDBPyConnection) -> None:
    tree = group("and", rule("notEquals", 1), rule("notInBetween", 0, 10))
    condition = group_condition(tree, resolve_number)
    assert condition is not None
    want = {i for i, v in enumerate(NUMBERS, 1) if v is None or not 0 <= v <= 10}
    assert selected(duck, NUM, condition) == want


def test_empty_groups_are_none() -> None:
    assert group_condition(None, resolve_number) is None
    assert group_condition(group("and"), resolve_number) is None
    nested = group("or", group("and"), group("or", group("and")))
    assert group_condition(nested, resolve_number) is None


def test_disabled_rules_are_true_and_never_resolved() -> None:
    seen: list[FilterRule] = []

    def resolve(r: FilterRule) -> exp.Expression:
        seen.append(r)
        return resolve_number(r)

    tree = group("and", rule("equals", 1), rule("equals", "nonsense", disabled=True))
    condition = group_condition(tree, resolve)
    assert condition is not None and condition.sql() == "(t.v = 1 AND TRUE)"
    assert [r.disabled for r in seen] == [False]
    only = group_condition(group("or", rule("equals", 1, disabled=True)), resolve)
    assert only is not None and only.sql() == "TRUE"


def test_single_rule_and_deep_nesting() -> None:
    assert group_condition(rule("equals", 1), resolve_number) == exp.column("v", table="t").eq(1)
    tree: Any = rule("equals", 1)
    for depth in range(60):
        tree = group("and" if depth % 2 else "or", tree, rule("equals", depth))
        condition = group_condition(tree, resolve_number)
        assert condition is not None
        assert condition.sql("postgres").count("t.v = ") == depth + 2
        if depth < 12:  # sqlglot's parser recurses once per level
            assert parse_one(condition.sql("postgres"), read="postgres") == condition


# --- robustness -----------------------------------------------------------------------------

VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.floats(), st.decimals(),
    st.text(max_size=12), st.dates(), st.datetimes(), st.lists(st.integers(), max_size=2),
    st.sampled_from(["2020-04-04", "2020-04-04T10:00:00Z", " 12.5 ", "true", "NaN", "1e3"]),
)  # fmt: skip
RULES = st.builds(
    lambda op, values, unit, completed, nocase, include_null: FilterRule.model_validate(
        {
            "target": {"fieldId": "t_v"},
            "operator": op,
            "values": values,
            "settings": {"unitOfTime": unit, "completed": completed},
            "caseSensitive": nocase,
            "includeNull": include_null,
        }
    ),
    st.sampled_from([op.value for op in Op]),
    st.lists(VALUES, max_size=3),
    st.sampled_from([None, "milliseconds", "days", "weeks", "months", "quarters", "years"]),
    st.booleans(),
    st.sampled_from([None, True, False]),
    st.sampled_from([None, True, False]),
)


@given(kind=st.sampled_from(list(T)), r=RULES, dialect=st.sampled_from(DIALECTS))
@settings(max_examples=400, deadline=None, database=None)
def test_any_rule_gives_sql_or_a_query_error(kind: T, r: FilterRule, dialect: str) -> None:
    try:
        condition = filter_condition(r, COLUMN, kind, "t_v", replace(CTX, dialect=dialect))
    except QueryError:
        return
    sql = condition.sql(dialect)
    assert parse_one(sql, read=dialect) is not None
    if dialect == "duckdb":
        conn = duckdb.connect()
        conn.execute(f"CREATE TABLE t_{kind.value} (id INTEGER, v {SQL_TYPES[kind]})")
        selected(conn, kind, condition)
