"""Filter rules → sqlglot conditions: one builder per (field type, operator), kept as data.

    FilterRule + column tree + field type ──▶ OPERATORS[type][operator] ──▶ condition tree

Values only ever become literals: strings byte-for-byte, numbers validated, booleans parsed,
dates typed. `%`, `_` and `\\` in text matches are literal. Negative operators are the exact
complement of their positive twin, so they keep the NULL rows the positive one cannot see.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlglot import exp

from metricql.compiler.sql.precedence import embedded, enclosed
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
)
from metricql.compiler.sql.slots import slotted
from metricql.compiler.sql.trees import copy_tree
from metricql.errors import QueryError
from metricql.query.model import AndGroup, FilterOperator, FilterRule, OrGroup, UnitOfTime
from metricql.semantic.fields import DimensionType

Op = FilterOperator
T = DimensionType
_UTC = timezone.utc


@dataclass(frozen=True, slots=True)
class FilterContext:
    """What a condition depends on besides the rule: dialect, clock, timezone, defaults."""

    dialect: str = "duckdb"
    now: datetime = field(default_factory=lambda: datetime.now(_UTC))
    timezone: str = "UTC"  # IANA name; relative timestamp boundaries are computed in it
    week_start: int = 0  # 0=Monday … 6=Sunday
    case_sensitive: bool = True  # default of filter_condition's `case_sensitive`

    def __post_init__(self) -> None:
        if not 0 <= self.week_start <= 6:
            raise QueryError(
                f"week start {self.week_start!r} is out of range",
                hint="use 0 (Monday) … 6 (Sunday)",
            )
        _zone(self.timezone)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise QueryError(
            f"unknown timezone {name!r}", hint="use an IANA name such as 'Europe/Paris'"
        ) from error


@dataclass(frozen=True, slots=True)
class _Operand:
    """One rule bound to its column, field and context: everything a builder reads."""

    rule: FilterRule
    column: exp.Expr
    field_type: DimensionType
    field_id: str
    ctx: FilterContext
    case_sensitive: bool  # the field's setting (the rule's own overrides it)

    @property
    def folded(self) -> bool:
        """True when strings compare case-insensitively (the rule overrides the field)."""
        sensitive = self.rule.case_sensitive
        if sensitive is None:
            sensitive = self.case_sensitive
        return self.field_type is T.STRING and not sensitive

    def fold(self, node: exp.Expr) -> exp.Expr:
        """`node`, upper-cased when comparing case-insensitively."""
        return exp.Upper(this=node) if self.folded else node

    def col(self) -> exp.Expr:
        """A fresh copy of the filtered column, folded like the values."""
        return self.fold(copy_tree(self.column))

    def is_null(self) -> exp.Expr:
        return _binary(exp.Is, copy_tree(self.column), exp.null())

    def given(self) -> list[Any]:
        """The rule's values; a null value counts as not filled in."""
        return [v for v in self.rule.values if v is not None]

    def literals(self) -> list[exp.Expr]:
        """The values as typed literals of the field's type."""
        build = self.literal
        return [self.fold(slotted(v, build)) for v in self.given()]

    def literal(self, value: Any) -> exp.Expr:
        """One value as a typed literal of the field's type (unfolded)."""
        return _LITERALS[self.field_type](value, self)

    def error(self, message: str, hint: str, **context: Any) -> QueryError:
        return QueryError(
            f"filter on {self.field_id!r} ({self.field_type.value}, "
            f"{self.rule.operator.value}): {message}",
            hint=hint,
            field=self.field_id,
            operator=self.rule.operator.value,
            type=self.field_type.value,
            **context,
        )


Build = Callable[[_Operand], exp.Expr]


# --- values ---------------------------------------------------------------------------------


def _text(value: Any, o: _Operand) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        is_whole = isinstance(value, float) and value.is_integer()
        return str(int(value)) if is_whole else str(value)
    if isinstance(value, date):
        return value.isoformat()
    raise o.error(f"{value!r} is not a text value", hint="give strings, numbers or booleans")


def _decimal(value: Any, o: _Operand) -> Decimal:
    """A finite number from an int, float, Decimal or numeric string; anything else fails."""
    number: Decimal | None = None
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            number = None
    if number is None or not number.is_finite():
        raise o.error(
            f"invalid number value {value!r}",
            hint="give a finite number such as 100, -2.5 or '1e3'",
            value=value,
        )
    return number


def _number(value: Any, o: _Operand) -> exp.Expr:
    text = str(_decimal(value, o))
    if text.startswith("-"):
        return exp.Neg(this=exp.Literal.number(text[1:]))
    return exp.Literal.number(text)


_BOOLEANS = MappingProxyType({"true": True, "false": False})


def _boolean(value: Any, o: _Operand) -> exp.Expr:
    parsed = _BOOLEANS.get(value.strip().lower()) if isinstance(value, str) else value
    if not isinstance(parsed, bool):
        raise o.error(f"invalid boolean value {value!r}", hint="give true or false", value=value)
    return exp.Boolean(this=parsed)


def _when(value: Any, o: _Operand) -> date:
    when = parse_when(value)
    if when is None:
        raise o.error(
            f"invalid date value {value!r}",
            hint="give 'YYYY-MM-DD' or an ISO 8601 timestamp such as '2021-04-04T10:00:00Z'",
            value=value,
        )
    return when


def _moment(when: date, o: _Operand) -> exp.Expr:
    return date_literal(when, o.field_type, o.ctx.dialect)


_LITERALS: Mapping[T, Callable[[Any, _Operand], exp.Expr]] = MappingProxyType(
    {
        T.STRING: lambda v, o: exp.Literal.string(_text(v, o)),
        T.NUMBER: _number,
        T.BOOLEAN: _boolean,
        T.DATE: lambda v, o: _moment(_when(v, o), o),
        T.TIMESTAMP: lambda v, o: _moment(_when(v, o), o),
    }
)


# --- shared builders ------------------------------------------------------------------------


def _is_noop(condition: exp.Expr) -> bool:
    return isinstance(condition, exp.Boolean) and condition.this is True


def _binary(kind: type[exp.Binary], left: exp.Expr, right: exp.Expr) -> exp.Expr:
    """`left <kind> right` as sqlglot's operators (`a >= b`, `a.eq(b)`) build it, Binary
    operands in parentheses, without their copies of two fresh trees."""
    if not isinstance(left, kind) and not isinstance(right, kind):
        left = exp.Paren(this=left) if isinstance(left, exp.Binary) else left
        right = exp.Paren(this=right) if isinstance(right, exp.Binary) else right
    return kind(this=left, expression=right)


def _any_of(column: exp.Expr, values: list[exp.Expr]) -> exp.Expr:
    if not values:  # an empty list filters nothing, as in Lightdash
        return exp.true()
    if len(values) == 1:
        return _binary(exp.EQ, column, values[0])
    return column.isin(*values, copy=False)


def _complement(o: _Operand, positive: exp.Expr) -> exp.Expr:
    """Every row `positive` rejects, NULLs included; a no-op stays a no-op."""
    if _is_noop(positive):
        return positive
    if isinstance(positive, exp.EQ):
        negated: exp.Expr = exp.NEQ(this=positive.this, expression=positive.expression)
    else:
        negated = exp.not_(positive)
    return exp.or_(negated, o.is_null(), copy=False)


def _equals(o: _Operand) -> exp.Expr:
    condition = _any_of(o.col(), o.literals())
    if not o.rule.include_null:
        return condition
    return o.is_null() if _is_noop(condition) else exp.or_(condition, o.is_null(), copy=False)


def _first(kind: type[exp.Binary]) -> Build:
    def build(o: _Operand) -> exp.Expr:
        values = o.literals()
        return kind(this=o.col(), expression=values[0]) if values else exp.true()

    return build


def _between(o: _Operand) -> exp.Expr:
    values = o.literals()
    if len(values) < 2:
        return exp.true()
    low, high = _binary(exp.GTE, o.col(), values[0]), _binary(exp.LTE, o.col(), values[1])
    return exp.and_(low, high, copy=False)


_BASE: Mapping[Op, Build] = {
    Op.IS_NULL: lambda o: o.is_null(),
    Op.NOT_NULL: lambda o: exp.not_(o.is_null()),
    Op.EQUALS: _equals,
    Op.NOT_EQUALS: lambda o: _complement(o, _any_of(o.col(), o.literals())),
}
_ORDERED: Mapping[Op, Build] = {
    Op.LESS_THAN: _first(exp.LT),
    Op.LESS_THAN_OR_EQUAL: _first(exp.LTE),
    Op.GREATER_THAN: _first(exp.GT),
    Op.GREATER_THAN_OR_EQUAL: _first(exp.GTE),
    Op.IN_BETWEEN: _between,
    Op.NOT_IN_BETWEEN: lambda o: _complement(o, _between(o)),
}


# --- text matching --------------------------------------------------------------------------

_Fold = Callable[[exp.Expr], exp.Expr]
_Match = Callable[[exp.Expr, exp.Expr, _Fold], exp.Expr]  # (column, value literal, fold)
_Pattern = Callable[[str], exp.Expr]  # the value's text → the literal matched against
_ESCAPE = "!"


def _like_pattern(text: str) -> str:
    return text.replace(_ESCAPE, _ESCAPE * 2).replace("%", "!%").replace("_", "!_")


def _like_literal(shape: str) -> _Pattern:
    """`shape` with the value ({}) in it, every wildcard in the value escaped."""
    return lambda text: exp.Literal.string(shape.format(_like_pattern(text)))


def _like(col: exp.Expr, pattern: exp.Expr, fold: _Fold) -> exp.Expr:
    like = exp.Like(this=col, expression=fold(pattern))
    return exp.Escape(this=like, expression=exp.Literal.string(_ESCAPE))


_MATCHES: Mapping[str, tuple[_Match, _Pattern]] = MappingProxyType(
    {
        "starts": (_like, _like_literal("{}%")),
        "ends": (_like, _like_literal("%{}")),
        "contains": (_like, _like_literal("%{}%")),
    }
)
_FUNCTION_MATCHES: Mapping[str, tuple[_Match, _Pattern]] = MappingProxyType(
    {
        "starts": (lambda c, v, f: exp.StartsWith(this=c, expression=f(v)), exp.Literal.string),
        "ends": (lambda c, v, f: exp.EndsWith(this=c, expression=f(v)), exp.Literal.string),
        "contains": (
            lambda c, v, f: exp.StrPosition(this=c, substr=f(v)) > exp.Literal.number(0),
            exp.Literal.string,
        ),
    }
)
# LIKE in these has no ESCAPE clause; their string functions match literally.
_MATCH_OVERRIDES: Mapping[str, Mapping[str, tuple[_Match, _Pattern]]] = MappingProxyType(
    {"bigquery": _FUNCTION_MATCHES, "clickhouse": _FUNCTION_MATCHES}
)


def _matching(o: _Operand, kind: str) -> exp.Expr:
    """Any value matches; empty strings are dropped (they would match every row)."""
    match, pattern = _MATCH_OVERRIDES.get(o.ctx.dialect, {}).get(kind, _MATCHES[kind])

    def literal(value: Any) -> exp.Expr:
        return pattern(_text(value, o))

    given = [v for v in o.given() if _text(v, o)]
    conditions = [match(o.col(), slotted(v, literal), o.fold) for v in given]
    return exp.or_(*conditions) if conditions else exp.true()


_TEXT: Mapping[Op, Build] = {
    Op.STARTS_WITH: lambda o: _matching(o, "starts"),
    Op.ENDS_WITH: lambda o: _matching(o, "ends"),
    Op.INCLUDE: lambda o: _matching(o, "contains"),
    Op.DOES_NOT_INCLUDE: lambda o: _complement(o, _matching(o, "contains")),
}


# --- dates ----------------------------------------------------------------------------------


def _now(o: _Operand) -> datetime:
    """Now in the zone boundaries are computed in: the query's for timestamps, UTC for dates."""
    zone = _zone(o.ctx.timezone) if o.field_type is T.TIMESTAMP else _UTC
    now = o.ctx.now if o.ctx.now.tzinfo else o.ctx.now.replace(tzinfo=_UTC)
    return now.astimezone(zone)


def _unit(o: _Operand) -> UnitOfTime:
    settings = o.rule.settings
    return settings.unit_of_time if settings and settings.unit_of_time else UnitOfTime.DAYS


def _count(o: _Operand) -> int | None:
    given = o.given()
    if not given:
        return None
    number = _decimal(given[0], o)
    if number < 0 or number != number.to_integral_value():
        raise o.error(
            f"invalid count {given[0]!r}", hint="give a whole number such as 14", value=given[0]
        )
    return int(number)


def _within(o: _Operand, window: Window) -> exp.Expr:
    end = exp.LTE if window.end_inclusive else exp.LT
    return exp.and_(
        _binary(exp.GTE, o.col(), _moment(window.start, o)),
        end(this=o.col(), expression=_moment(window.end, o)),
        copy=False,
    )


def _relative(o: _Operand, window: Callable[..., Window]) -> exp.Expr:
    count = _count(o)
    if count is None:
        return exp.true()
    completed = bool(o.rule.settings and o.rule.settings.completed)
    try:
        span = window(_now(o), _unit(o), count, completed, o.ctx.week_start)
    except (OverflowError, ValueError) as error:  # beyond year 1 … 9999
        raise o.error(
            f"{count} {_unit(o).value} from now is outside the calendar",
            hint="use a smaller count",
            value=count,
        ) from error
    return _within(o, span)


def _current(o: _Operand) -> exp.Expr:
    return _within(o, current_window(_now(o), _unit(o), o.ctx.week_start))


def _period_to_date(o: _Operand) -> exp.Expr:
    """Rows as far into their own period (of any year) as today is into the current one."""
    settings = o.rule.settings
    unit = settings.unit_of_time if settings else None
    if unit is None or unit not in PERIOD_UNITS:
        raise o.error(
            "period to date filter requires a unitOfTime setting",
            hint="set settings.unitOfTime to weeks, months, quarters or years",
        )
    today = days_into_period(_now(o), unit, o.ctx.week_start)
    days = days_into_period_sql(o.column.copy(), unit, o.ctx.week_start)
    return exp.LTE(this=days, expression=exp.Literal.number(today))


_DATES: Mapping[Op, Build] = {
    **_BASE,
    **_ORDERED,
    Op.IN_THE_PAST: lambda o: _relative(o, past_window),
    Op.NOT_IN_THE_PAST: lambda o: _complement(o, _relative(o, past_window)),
    Op.IN_THE_NEXT: lambda o: _relative(o, next_window),
    Op.IN_THE_CURRENT: _current,
    Op.NOT_IN_THE_CURRENT: lambda o: _complement(o, _current(o)),
    Op.IN_PERIOD_TO_DATE: _period_to_date,
}

# Operators whose condition reads the clock (`FilterContext.now`): the relative date ones. A
# query using one without a fixed `now` must not reuse cached SQL (see `cache.py`).
CLOCK_OPERATORS: frozenset[FilterOperator] = (
    frozenset(_DATES) - frozenset(_BASE) - frozenset(_ORDERED)
)

OPERATORS: Mapping[DimensionType, Mapping[FilterOperator, Build]] = MappingProxyType(
    {
        T.STRING: MappingProxyType({**_BASE, **_TEXT}),
        T.NUMBER: MappingProxyType({**_BASE, **_ORDERED}),
        T.BOOLEAN: MappingProxyType(dict(_BASE)),
        T.DATE: MappingProxyType(_DATES),
        T.TIMESTAMP: MappingProxyType(_DATES),
    }
)


# --- public ---------------------------------------------------------------------------------


def filter_condition(
    rule: FilterRule,
    column: exp.Expr,
    field_type: DimensionType,
    field_id: str,
    ctx: FilterContext,
    *,
    case_sensitive: bool | None = None,
) -> exp.Expr:
    """Condition for `rule` on `column` (copied, never mutated); a disabled rule is TRUE.

    `case_sensitive`: the field's resolved setting (see `targets.case_sensitive`); default
    `ctx.case_sensitive`.
    """
    if rule.disabled:
        return exp.true()
    sensitive = ctx.case_sensitive if case_sensitive is None else case_sensitive
    operand = _Operand(rule, embedded(column), field_type, field_id, ctx, sensitive)
    build = OPERATORS[field_type].get(rule.operator)
    if build is None:
        valid = ", ".join(op.value for op in OPERATORS[field_type])
        raise operand.error(
            f"operator {rule.operator.value!r} does not apply to {field_type.value} fields",
            hint=f"use one of: {valid}",
        )
    return enclosed(build(operand))


Resolve = Callable[[FilterRule], exp.Expr]


def group_condition(
    group: AndGroup | OrGroup | FilterRule | None, resolve: Resolve
) -> exp.Expr | None:
    """Condition for a nested AND/OR group; None when nothing is left to filter.

    `resolve` turns an enabled rule into its condition; disabled rules become TRUE unresolved.
    """
    if group is None:
        return None
    if isinstance(group, FilterRule):
        return exp.true() if group.disabled else resolve(group)
    items = group.and_ if isinstance(group, AndGroup) else group.or_
    conditions = [c for c in (group_condition(item, resolve) for item in items) if c is not None]
    if len(conditions) <= 1:
        return conditions[0] if conditions else None
    join = exp.and_ if isinstance(group, AndGroup) else exp.or_
    return enclosed(join(*conditions, copy=False))  # conditions are fresh trees: no copies
