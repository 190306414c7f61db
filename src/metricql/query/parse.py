"""YAML filter shorthand (`status: '!completed'`, `amount: '> 100'`) → FilterRule.

    null            isNull              '!null'         notNull
    5, true, [a, b] equals              ''              equals (no values: no filter)
    '> 5' '>= 5' '< 5' '<= 5'           greaterThan … with a number
    'inThePast 14 days', 'inTheNext 3 months'           relative dates (unit singular or plural)
    '%abc%'  'abc%'  '%abc'             include, startsWith, endsWith
    '!%abc%'                            doesNotInclude
    'text', '"text"', '!text'           equals, notEquals

`^` escapes `%`, `_`, `,`, `^` and `-`; a backslash escapes any character. Matching is literal
(metricql never treats `%` or `_` inside a value as a wildcard).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Any

from metricql.errors import QueryError, UnsupportedError
from metricql.query.model import (
    FilterOperator,
    FilterRule,
    FilterSettings,
    FilterTarget,
    UnitOfTime,
)

Op = FilterOperator

_COMPARISONS: Mapping[str, Op] = MappingProxyType(
    {
        ">": Op.GREATER_THAN,
        ">=": Op.GREATER_THAN_OR_EQUAL,
        "<": Op.LESS_THAN,
        "<=": Op.LESS_THAN_OR_EQUAL,
    }
)
_COMPARISON = re.compile(r"(>=|<=|>|<)\s*(.*)", re.DOTALL)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")

_RELATIVE: Mapping[str, Op] = MappingProxyType(
    {"inthepast": Op.IN_THE_PAST, "inthenext": Op.IN_THE_NEXT}
)
_RELATIVE_TEXT = re.compile(r"(\w+)\s+([0-9]+)\s+(\S+)")
# Other relative operators have no shorthand; text starting with them is a mistake, not a value.
_RELATIVE_ONLY_IN_JSON = frozenset(
    op.value
    for op in (
        Op.NOT_IN_THE_PAST,
        Op.IN_THE_CURRENT,
        Op.NOT_IN_THE_CURRENT,
        Op.IN_PERIOD_TO_DATE,
    )
)
_UNITS: Mapping[str, UnitOfTime] = MappingProxyType(
    {name: unit for unit in UnitOfTime for name in (unit.value, unit.value[:-1])}
)

_WORDS: Mapping[str, Op] = MappingProxyType(
    {"null": Op.IS_NULL, "NULL": Op.IS_NULL, "!null": Op.NOT_NULL, "!NULL": Op.NOT_NULL}
)
_EMPTY = frozenset({"EMPTY", "empty"})

_CARET_ESCAPES = frozenset("%_,^-")
# (leading %, trailing %, negated) → operator; `!` before startsWith/endsWith has no operator.
_PATTERNS: Mapping[tuple[bool, bool, bool], Op] = MappingProxyType(
    {
        (False, False, False): Op.EQUALS,
        (False, False, True): Op.NOT_EQUALS,
        (True, True, False): Op.INCLUDE,
        (True, True, True): Op.DOES_NOT_INCLUDE,
        (False, True, False): Op.STARTS_WITH,
        (True, False, False): Op.ENDS_WITH,
    }
)

_HINT = (
    "write e.g. 'completed', '!completed', '> 100', '%gmail%', 'inThePast 14 days' or null; "
    "use a YAML list for several values and ^ to escape % _ , ^ -"
)


def _rule(field_ref: str, operator: Op, values: tuple[Any, ...] = (), **extra: Any) -> FilterRule:
    return FilterRule(
        target=FilterTarget(field_id=field_ref), operator=operator, values=values, **extra
    )


def _fail(
    field_ref: str, value: Any, problem: str, where: str | None, *, unsupported: bool = False
) -> QueryError:
    kind = UnsupportedError if unsupported else QueryError
    prefix = f"{where}: " if where else ""
    return kind(
        f"{prefix}cannot read filter {value!r} on {field_ref!r}: {problem}",
        hint=_HINT,
        field=field_ref,
        value=value,
        where=where,
    )


def parse_shorthand(field_ref: str, value: Any, *, where: str | None = None) -> FilterRule:
    """The rule YAML shorthand `value` stands for, on `field_ref` (kept as written)."""
    if value is None:
        return _rule(field_ref, Op.IS_NULL)
    if isinstance(value, (list, tuple)):
        for item in value:
            if not _is_scalar(item):
                raise _fail(field_ref, value, f"list item {item!r} is not a value", where)
        return _rule(field_ref, Op.EQUALS, tuple(value))
    if isinstance(value, str):
        return _parse_text(field_ref, value, where)
    if _is_scalar(value):
        return _rule(field_ref, Op.EQUALS, (value,))
    raise _fail(field_ref, value, "a mapping is not a filter value", where)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, date))


def _parse_text(field_ref: str, value: str, where: str | None) -> FilterRule:
    text = value.strip()
    if not text:
        return _rule(field_ref, Op.EQUALS)
    if text in _WORDS:
        return _rule(field_ref, _WORDS[text])
    if text in _EMPTY:
        raise _fail(field_ref, value, "EMPTY filters are not supported", where, unsupported=True)
    if text[0] in "<>":
        return _comparison(field_ref, value, text, where)
    first_word = text.split(maxsplit=1)[0]
    if first_word.lower() in _RELATIVE:
        return _relative(field_ref, value, text, where)
    if first_word in _RELATIVE_ONLY_IN_JSON:
        problem = f"{first_word!r} has no shorthand"
        raise _fail(field_ref, value, problem, where, unsupported=True)
    return _pattern(field_ref, value, text, where)


def _comparison(field_ref: str, value: str, text: str, where: str | None) -> FilterRule:
    match = _COMPARISON.fullmatch(text)
    number = match.group(2).strip() if match else ""
    if match is None or not _NUMBER.fullmatch(number):
        raise _fail(field_ref, value, "a comparison needs a number, e.g. '> 100'", where)
    parsed = int(number) if _INTEGER.fullmatch(number) else float(number)
    if not math.isfinite(parsed):
        raise _fail(field_ref, value, "the number is out of range", where)
    return _rule(field_ref, _COMPARISONS[match.group(1)], (parsed,))


def _relative(field_ref: str, value: str, text: str, where: str | None) -> FilterRule:
    match = _RELATIVE_TEXT.fullmatch(text)
    if match is None:
        raise _fail(field_ref, value, "expected '<operator> <whole number> <unit>'", where)
    unit = _UNITS.get(match.group(3).lower())
    if unit is None:
        units = ", ".join(u.value for u in UnitOfTime)
        raise _fail(field_ref, value, f"unknown unit {match.group(3)!r} (use {units})", where)
    return _rule(
        field_ref,
        _RELATIVE[match.group(1).lower()],
        (int(match.group(2)),),
        settings=FilterSettings(unit_of_time=unit),
    )


def _pattern(field_ref: str, value: str, text: str, where: str | None) -> FilterRule:
    negated = text.startswith("!")
    body = text[1:] if negated else text
    if len(body) >= 2 and body[0] == body[-1] == '"':  # quoted: plain text, no wildcards
        return _rule(field_ref, _PATTERNS[False, False, negated], (body[1:-1],))
    chars = _unescape(body)
    leading = bool(chars) and chars[0] == ("%", False)
    trailing = len(chars) > int(leading) and chars[-1] == ("%", False)
    inner = chars[int(leading) : len(chars) - int(trailing)]
    if any(c == "%" and not escaped for c, escaped in inner):
        raise _fail(
            field_ref, value, "'%' may only start or end a pattern (^% is a literal %)", where
        )
    if any(c == "," and not escaped for c, escaped in inner):
        problem = "lists in one string are not supported (use a YAML list, or ^, for a comma)"
        raise _fail(field_ref, value, problem, where, unsupported=True)
    operator = _PATTERNS.get((leading, trailing, negated))
    if operator is None:
        raise _fail(
            field_ref, value, "'!' cannot negate startsWith/endsWith", where, unsupported=True
        )
    literal = "".join(c for c, _ in inner)
    if not literal:
        raise _fail(field_ref, value, "the pattern has no text", where)
    return _rule(field_ref, operator, (literal,))


def _unescape(body: str) -> list[tuple[str, bool]]:
    """Characters with an `escaped` flag: `^` before % _ , ^ - and `\\` before anything."""
    out: list[tuple[str, bool]] = []
    index = 0
    while index < len(body):
        char, following = body[index], body[index + 1 : index + 2]
        if (char == "^" and following in _CARET_ESCAPES and following) or (
            char == "\\" and following
        ):
            out.append((following, True))
            index += 2
        else:
            out.append((char, False))
            index += 1
    return out


def parse_filter_entries(
    entries: Any, *, required_default: bool, where: str
) -> list[tuple[FilterRule, bool]]:
    """Rules of a YAML filter list (`required_filters`, `default_filters`, metric `filters`).

    Each entry is `{field_ref: value}`, optionally with `required: true|false` (else
    `required_default`). A field named twice keeps every entry; all of them apply (AND).
    """
    if not isinstance(entries, list):
        raise QueryError(
            f"{where}: filters must be a list, got {type(entries).__name__}",
            hint="write filters as a YAML list: `- status: completed`",
            where=where,
        )
    rules: list[tuple[FilterRule, bool]] = []
    for entry in entries:
        field_ref, value, required = _entry(entry, required_default, where)
        # A field named twice keeps both entries, ANDed: `- amount: "> 10"`, `- amount: "< 50"`.
        rule = parse_shorthand(field_ref, value, where=where)
        rules.append((rule.model_copy(update={"required": required}), required))
    return rules


def _entry(entry: Any, required_default: bool, where: str) -> tuple[str, Any, bool]:
    """(field ref, value, required) of one `{field: value, required: bool}` entry."""
    if not isinstance(entry, Mapping) or not entry:
        raise QueryError(
            f"{where}: filter entry {entry!r} is not a mapping like {{status: completed}}",
            hint="write each filter as `- field: value`",
            where=where,
        )
    fields = [k for k in entry if k != "required"] or list(entry)  # a lone `required` is a field
    required = entry.get("required", required_default) if len(entry) > 1 else required_default
    if len(fields) != 1 or not isinstance(fields[0], str):
        raise QueryError(
            f"{where}: filter entry {dict(entry)!r} must name exactly one field",
            hint="split it into one list item per field",
            where=where,
        )
    if not isinstance(required, bool):
        raise QueryError(
            f"{where}: `required` of the filter on {fields[0]!r} must be true or false",
            hint="write `required: true` or `required: false`",
            field=fields[0],
            where=where,
        )
    return fields[0], entry[fields[0]], required
