"""The shape cache: a query differing from an earlier one only in filter values is re-rendered
from the shape's template, byte for byte what a fresh compile gives (or raises)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metricql as mq
from metricql.compiler.options import CompileOptions
from metricql.compiler.shape import ShapedQuery, shape_key
from metricql.dialects import SUPPORTED
from metricql.errors import MetricQLError

NOW = datetime(2024, 3, 15, 10, 30, tzinfo=timezone.utc)
USER = mq.UserContext(attributes={"status": "completed", "role": "analyst"}, email="a@x.io")
OPERATORS = {  # field → (type, operators)
    "orders_status": ("string", ["equals", "notEquals", "startsWith", "endsWith", "include",
                                 "doesNotInclude", "isNull", "notNull"]),
    "customers_country": ("string", ["equals", "notEquals", "include"]),
    "orders_amount": ("number", ["equals", "notEquals", "lessThan", "greaterThanOrEqual",
                                 "inBetween", "notInBetween"]),
    "orders_order_date": ("date", ["equals", "lessThan", "inBetween", "inThePast",
                                   "inTheNext", "notInThePast"]),
    "orders_ordered_at": ("timestamp", ["greaterThan", "inBetween", "inThePast"]),
    "orders_is_gift": ("boolean", ["equals"]),
}  # fmt: skip
RELATIVE = {"inThePast", "inTheNext", "notInThePast"}
AWKWARD = ["completed", "50%", "a%b_c", "O'Brien's", "x\\y", "Ünï", "", "'); DROP --", "!"]
TEXTS = st.one_of(
    st.sampled_from(AWKWARD),
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=8),
    st.just("${lightdash.attributes.status}"),  # a user attribute in a filter value
)
NUMBERS = st.one_of(
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.integers(-999, 999).map(str),  # numbers as text, as Lightdash sends them
)
DATES = st.dates(date(1990, 1, 1), date(2030, 12, 31)).map(date.isoformat)
VALUES = {
    "string": TEXTS,
    "number": NUMBERS,
    "date": DATES,
    "timestamp": st.one_of(DATES, DATES.map(lambda d: d + "T10:00:00Z")),
    "boolean": st.sampled_from([True, False, "true"]),
    "count": st.integers(0, 40),  # relative-date counts
}
DIALECTS = st.sampled_from(SUPPORTED)


@st.composite
def shapes(draw: st.DrawFn) -> list[tuple[str, str, str, int]]:
    """Rules as (field, operator, value kind, number of values)."""
    out = []
    for _ in range(draw(st.integers(1, 4))):
        fid = draw(st.sampled_from(sorted(OPERATORS)))
        kind, operators = OPERATORS[fid]
        op = draw(st.sampled_from(operators))
        count = 2 if "Between" in op else draw(st.integers(1, 3))
        out.append((fid, op, "count" if op in RELATIVE else kind, 1 if op in RELATIVE else count))
    return out


def _values(draw: st.DrawFn, shape: list[tuple[str, str, str, int]]) -> list[list[Any]]:
    return [[draw(VALUES[kind]) for _ in range(n)] for _, _, kind, n in shape]


def _query(shape: list[tuple[str, str, str, int]], values: list[list[Any]], or_: bool) -> Any:
    rules = [
        {"id": f"r{i}", "target": {"fieldId": fid}, "operator": op, "values": vals,
         **({"settings": {"unitOfTime": "months"}} if op in RELATIVE else {})}
        for i, ((fid, op, _, _), vals) in enumerate(zip(shape, values, strict=True))
    ]  # fmt: skip
    group = {"id": "root", "and": [rules[0], {"id": "g", "or": rules[1:]}]} if or_ else {
        "id": "root", "and": rules}  # fmt: skip
    return mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "dimensions": ["orders_order_date_month", "orders_status", "customers_country"],
            "metrics": ["orders_total_revenue", "payments_total_amount"],
            "filters": {
                "dimensions": group,
                "metrics": {
                    "id": "m",
                    "and": [
                        {
                            "id": "big",
                            "operator": "greaterThan",
                            "target": {"fieldId": "orders_total_revenue"},
                            "values": [values[0][0] if shape[0][2] == "number" else 5],
                        }
                    ],
                },
            },
            "sorts": [{"fieldId": "orders_total_revenue", "descending": True}],
            "limit": 100,
        }
    )


def _outcome(project: mq.Project, query: Any, dialect: str, user: Any) -> Any:
    """The compiled query, or the error's class, code and message."""
    try:
        return project.compile(query, dialect=dialect, user=user, now=NOW)
    except MetricQLError as err:
        return (type(err), err.code, str(err))


@pytest.fixture(scope="module")
def projects(project: mq.Project) -> tuple[mq.Project, mq.Project]:
    """A project with the caches, and its twin that compiles afresh every time."""
    shaped = project.with_explores(project.explores)
    return shaped, mq.Project(project._schema, project.explores, cache_size=0)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(data=st.data(), shape=shapes(), dialect=DIALECTS, or_=st.booleans(), user=st.booleans())
def test_new_values_render_exactly_as_a_fresh_compile(
    projects: tuple[mq.Project, mq.Project],
    data: st.DataObject,
    shape: list[tuple[str, str, str, int]],
    dialect: str,
    or_: bool,
    user: bool,
) -> None:
    shaped, fresh = projects
    who = USER if user else None
    values = st.composite(lambda d: _values(d, shape))()
    first = _query(shape, data.draw(values), or_)
    _outcome(shaped, first, dialect, who)  # the shape is seen; its next query makes a template
    for _ in range(3):
        again = _query(shape, data.draw(values), or_)
        got, want = _outcome(shaped, again, dialect, who), _outcome(fresh, again, dialect, who)
        assert got == want
        if isinstance(want, mq.CompiledQuery):
            assert got.sql == want.sql and got.tree.sql(dialect=dialect) == want.sql


TYPICAL_SHAPE = [("orders_status", "notEquals", "string", 2),
                 ("orders_order_date", "inBetween", "date", 2),
                 ("customers_country", "equals", "string", 3),
                 ("orders_amount", "greaterThan", "number", 1)]  # fmt: skip


@pytest.mark.parametrize("dialect", SUPPORTED)
def test_typical_query_with_new_values_is_rendered_from_its_shape(
    projects: tuple[mq.Project, mq.Project], dialect: str
) -> None:
    shaped, fresh = projects
    base = [["placed", "return_pending"], ["2023-06-01", "2025-06-30"],
            ["Germany", "France", "Japan"], [50]]  # fmt: skip
    other = [["shipped", "x"], ["2023-06-02", "2025-06-30"], ["Spain", "Italy", "Japan"], [5]]
    for values in (base, other):  # seen once, then templated
        shaped.compile(_query(TYPICAL_SHAPE, values, True), dialect=dialect)
    new = [["it's", "50%_off"], ["2020-01-31", "2021-02-28"], ["Côte", "Ünï", "x\\y"], [-7]]
    query = _query(TYPICAL_SHAPE, new, True)
    got, want = shaped.compile(query, dialect=dialect), fresh.compile(query, dialect=dialect)
    assert isinstance(got, ShapedQuery)  # the template answered, not a fresh compile
    assert got == want and want == got and got.sql == want.sql
    assert "'it''s'" in got.sql or "'it\\'s'" in got.sql  # values stay literals
    assert got.tree.sql(dialect=dialect) == want.sql


def test_a_bad_value_on_a_cached_shape_raises_as_a_fresh_compile(
    projects: tuple[mq.Project, mq.Project],
) -> None:
    shaped, fresh = projects
    good = [["a", "b"], ["2023-06-01", "2025-06-30"], ["x", "y", "z"], [50]]
    shaped.compile(_query(TYPICAL_SHAPE, good, False))
    shaped.compile(_query(TYPICAL_SHAPE, [["c", "d"], *good[1:]], False))
    bad = [["a", "b"], ["2023-06-01", "not a date"], ["x", "y", "z"], ["lots"]]
    got, want = (_outcome(p, _query(TYPICAL_SHAPE, bad, False), "duckdb", None)
                 for p in (shaped, fresh))  # fmt: skip
    assert got == want and want[1] == "query_error"


def test_a_one_off_query_is_compiled_once(project: mq.Project) -> None:
    """Templates are made for shapes that come back: the first query of a shape costs one
    compile (tests/compiler/test_plan.py counts the plans), the second two, later ones none."""
    shaped = project.with_explores(project.explores)
    values = [["a", "b"], ["2023-06-01", "2025-06-30"], ["x", "y", "z"], [50]]
    first = shaped.compile(_query(TYPICAL_SHAPE, values, False))
    second = shaped.compile(_query(TYPICAL_SHAPE, [["c", "d"], *values[1:]], False))
    third = shaped.compile(_query(TYPICAL_SHAPE, [["e", "f"], *values[1:]], False))
    assert [isinstance(c, ShapedQuery) for c in (first, second, third)] == [False, False, True]


def test_values_equal_in_python_but_not_in_sql_stay_apart(
    projects: tuple[mq.Project, mq.Project],
) -> None:
    """0.0 == -0.0 (and they hash alike), yet they render differently: neither the compile
    cache nor a template's remembered values may mix them up."""
    shaped, fresh = projects
    shape = [("orders_amount", "inBetween", "number", 2)]
    for pair in ([1.5, 2.5], [0.0, 3.5], [-0.0, 3.5], [0.0, 3.5], [-0.0, -0.0]):
        query = _query(shape, [pair], False)
        assert shaped.compile(query).sql == fresh.compile(query).sql


def test_a_shape_with_a_value_no_marker_carries_is_never_templated(project: mq.Project) -> None:
    """isNull ignores its values: no marker stands for them, and a template is made only when
    every value has one (a value reaching the SQL another way would stay baked in)."""
    shaped = project.with_explores(project.explores)
    shape = [("orders_status", "isNull", "string", 1), ("orders_amount", "lessThan", "number", 1)]
    got = [shaped.compile(_query(shape, [[f"x{i}"], [i]], False)) for i in range(3)]
    assert not any(isinstance(c, ShapedQuery) for c in got)
    assert '"orders".amount < 2' in got[2].sql


def test_a_relative_date_rule_anywhere_keeps_a_query_out_without_now(
    project: mq.Project,
) -> None:
    """The key's walk of the rules notes the clock itself: a relative-date rule nested in an
    OR group reads the clock, so without `now` the query has no shape (compiled afresh)."""
    shape = [("orders_status", "equals", "string", 1), ("orders_order_date", "inThePast",
             "count", 1)]  # fmt: skip
    query = _query(shape, [["x"], [3]], True)
    explore = project.explore("orders")
    assert shape_key(explore, query, CompileOptions()) is None
    assert shape_key(explore, query, CompileOptions(now=NOW)) is not None
    plain = _query([shape[0], ("orders_amount", "lessThan", "number", 1)], [["x"], [3]], True)
    assert shape_key(explore, plain, CompileOptions()) is not None
