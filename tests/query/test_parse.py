"""YAML filter shorthand → FilterRule (SPEC §4.5, §8.52), and filter entry lists."""

from __future__ import annotations

import warnings
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metricql.errors import QueryError, UnsupportedError
from metricql.query.model import FilterOperator, UnitOfTime
from metricql.query.parse import parse_filter_entries, parse_shorthand

Op = FilterOperator

SHORTHAND: list[tuple[Any, Op, tuple[Any, ...]]] = [
    # SPEC §8.52
    ("completed", Op.EQUALS, ("completed",)),
    ("!completed", Op.NOT_EQUALS, ("completed",)),
    ("> 100", Op.GREATER_THAN, (100,)),
    ("%@gmail.com", Op.ENDS_WITH, ("@gmail.com",)),
    ("Jo%", Op.STARTS_WITH, ("Jo",)),
    ("%oh%", Op.INCLUDE, ("oh",)),
    (None, Op.IS_NULL, ()),
    (True, Op.EQUALS, (True,)),
    # the rest of SPEC §4.5
    (5, Op.EQUALS, (5,)),
    (2.5, Op.EQUALS, (2.5,)),
    (False, Op.EQUALS, (False,)),
    (date(2021, 4, 4), Op.EQUALS, (date(2021, 4, 4),)),
    (["a", "b", 3], Op.EQUALS, ("a", "b", 3)),
    ([], Op.EQUALS, ()),
    ("", Op.EQUALS, ()),
    (">=5", Op.GREATER_THAN_OR_EQUAL, (5,)),
    ("< 5", Op.LESS_THAN, (5,)),
    ("<= -2.5", Op.LESS_THAN_OR_EQUAL, (-2.5,)),
    (">1e3", Op.GREATER_THAN, (1000.0,)),
    ("null", Op.IS_NULL, ()),
    ("NULL", Op.IS_NULL, ()),
    ("!null", Op.NOT_NULL, ()),
    ("!NULL", Op.NOT_NULL, ()),
    ("Null", Op.EQUALS, ("Null",)),
    ("!%abc%", Op.DOES_NOT_INCLUDE, ("abc",)),
    ("5", Op.EQUALS, ("5",)),  # a bare number string stays a string
    ('"quoted"', Op.EQUALS, ("quoted",)),
    ('"%not a pattern%"', Op.EQUALS, ("%not a pattern%",)),
    ('!"> 5"', Op.NOT_EQUALS, ("> 5",)),
    ("  padded  ", Op.EQUALS, ("padded",)),
    ("O'Brien", Op.EQUALS, ("O'Brien",)),
    ("'); DROP TABLE orders; --", Op.EQUALS, ("'); DROP TABLE orders; --",)),
    ("a_b", Op.EQUALS, ("a_b",)),  # `_` is never a wildcard
    ("%a_b%", Op.INCLUDE, ("a_b",)),
    # escapes: ^ before % _ , ^ -, backslash before anything
    ("50^%", Op.EQUALS, ("50%",)),
    ("%50^%%", Op.INCLUDE, ("50%",)),
    ("^%abc", Op.EQUALS, ("%abc",)),
    ("a^_b", Op.EQUALS, ("a_b",)),
    ("Smith^, John", Op.EQUALS, ("Smith, John",)),
    ("^^", Op.EQUALS, ("^",)),
    ("^-1", Op.EQUALS, ("-1",)),
    ("a^b", Op.EQUALS, ("a^b",)),
    ("\\%abc", Op.EQUALS, ("%abc",)),
    ("x\\\\y", Op.EQUALS, ("x\\y",)),
    ("\\!text", Op.EQUALS, ("!text",)),
    ("\\> 5", Op.EQUALS, ("> 5",)),
    ("!^%x", Op.NOT_EQUALS, ("%x",)),
    ("inThePast 14 days", Op.IN_THE_PAST, (14,)),
    ("inTheNext 3 months", Op.IN_THE_NEXT, (3,)),
    ("inThePast 1 day", Op.IN_THE_PAST, (1,)),
    ("inthepast  2  Weeks", Op.IN_THE_PAST, (2,)),
    ("inThePast 1 quarter", Op.IN_THE_PAST, (1,)),
    ("inTheNext 500 milliseconds", Op.IN_THE_NEXT, (500,)),
]
UNITS = {
    "inThePast 14 days": UnitOfTime.DAYS,
    "inTheNext 3 months": UnitOfTime.MONTHS,
    "inThePast 1 day": UnitOfTime.DAYS,
    "inthepast  2  Weeks": UnitOfTime.WEEKS,
    "inThePast 1 quarter": UnitOfTime.QUARTERS,
    "inTheNext 500 milliseconds": UnitOfTime.MILLISECONDS,
}


@pytest.mark.parametrize(("value", "op", "values"), SHORTHAND, ids=repr)
def test_shorthand(value: Any, op: Op, values: tuple[Any, ...]) -> None:
    rule = parse_shorthand("orders.status", value)
    assert (rule.target.field_id, rule.operator, rule.values) == ("orders.status", op, values)
    assert [type(v) for v in rule.values] == [type(v) for v in values]
    unit = rule.settings.unit_of_time if rule.settings else None
    assert unit == UNITS.get(value if isinstance(value, str) else "")


BAD: list[tuple[Any, type[QueryError], str]] = [
    ("EMPTY", UnsupportedError, "EMPTY"),
    ("empty", UnsupportedError, "EMPTY"),
    ("> abc", QueryError, "number"),
    (">", QueryError, "number"),
    ("<= 1) OR 1=1", QueryError, "number"),
    ("inThePast days", QueryError, "whole number"),
    ("inThePast 1.5 days", QueryError, "whole number"),
    ("inThePast -1 days", QueryError, "whole number"),
    ("inThePast ² days", QueryError, "whole number"),
    ("> 1e999", QueryError, "out of range"),
    ("inThePast 14", QueryError, "whole number"),
    ("inThePast 14 fortnights", QueryError, "fortnights"),
    ("inTheCurrent month", UnsupportedError, "inTheCurrent"),
    ("notInThePast 3 days", UnsupportedError, "notInThePast"),
    ("a, b", UnsupportedError, "YAML list"),
    ("%a,b%", UnsupportedError, "YAML list"),
    ("a%b", QueryError, "%"),
    ("%a%b%", QueryError, "%"),
    ("!abc%", UnsupportedError, "negate"),
    ("!%abc", UnsupportedError, "negate"),
    ("%", QueryError, "no text"),
    ("%%", QueryError, "no text"),
    ("!", QueryError, "no text"),
    ({"a": 1}, QueryError, "mapping"),
    ([["nested"]], QueryError, "not a value"),
    ([None], QueryError, "not a value"),
]


@pytest.mark.parametrize(("value", "error", "mentions"), BAD, ids=repr)
def test_bad_shorthand(value: Any, error: type[QueryError], mentions: str) -> None:
    with pytest.raises(error) as info:
        parse_shorthand("orders.status", value, where="models/orders.yml: required_filters")
    text = str(info.value)
    assert "orders.status" in text and repr(value) in text and mentions in text
    assert "models/orders.yml" in text
    assert info.value.hint
    assert info.value.to_dict()["field"] == "orders.status"


# --- entry lists ----------------------------------------------------------------------------


def entries(items: list[Any], required_default: bool = True) -> list[tuple[str, Op, Any, bool]]:
    parsed = parse_filter_entries(items, required_default=required_default, where="orders")
    assert all(rule.required is required for rule, required in parsed)
    return [(r.target.field_id, r.operator, r.values, required) for r, required in parsed]


def test_entries_default_and_explicit_required() -> None:
    got = entries([{"status": "completed"}, {"amount": "> 100", "required": False}])
    assert got == [
        ("status", Op.EQUALS, ("completed",), True),
        ("amount", Op.GREATER_THAN, (100,), False),
    ]
    assert entries([{"status": "completed"}], required_default=False)[0][3] is False
    assert entries([{"required": True, "status": None}], False) == [
        ("status", Op.IS_NULL, (), True)
    ]


def test_a_field_named_required_is_a_field() -> None:
    assert entries([{"required": "yes"}]) == [("required", Op.EQUALS, ("yes",), True)]


def test_dotted_refs_are_kept_as_written() -> None:
    assert entries([{"customers.region": "EU"}])[0][0] == "customers.region"


def test_duplicate_fields_keep_every_entry_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = entries([{"status": "a"}, {"amount": 1}, {"status": "b"}])
    assert got == [
        ("status", Op.EQUALS, ("a",), True),
        ("amount", Op.EQUALS, (1,), True),
        ("status", Op.EQUALS, ("b",), True),
    ]


BAD_ENTRIES: list[tuple[Any, str]] = [
    ({"status": "a"}, "list"),
    ("status: a", "list"),
    (["status"], "mapping"),
    ([{}], "mapping"),
    ([{"status": "a", "amount": 1}], "exactly one field"),
    ([{1: "a"}], "exactly one field"),
    ([{"status": "a", "required": "no"}], "true or false"),
    ([{"status": "EMPTY"}], "EMPTY"),
]


@pytest.mark.parametrize(("items", "mentions"), BAD_ENTRIES, ids=repr)
def test_bad_entries(items: Any, mentions: str) -> None:
    with pytest.raises(QueryError, match=mentions) as info:
        parse_filter_entries(items, required_default=True, where="models/orders.yml")
    assert "models/orders.yml" in str(info.value) and info.value.hint


@given(
    st.one_of(st.text(max_size=20), st.text(alphabet='!%^\\,_-<>= 0123456789abnul"', max_size=10))
)
@settings(max_examples=500, deadline=None, database=None)
def test_any_text_gives_a_rule_or_a_query_error(text: str) -> None:
    try:
        rule = parse_shorthand("status", text)
    except QueryError:
        return
    assert rule.target.field_id == "status"
    if rule.operator in (Op.EQUALS, Op.NOT_EQUALS):
        assert all(isinstance(v, str) for v in rule.values)
