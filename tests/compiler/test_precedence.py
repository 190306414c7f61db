"""Operator precedence (issue 10, item 9): a field's SQL keeps its meaning inside every filter
operator. Random field expressions (comparisons, AND/OR/NOT, IS NULL, arithmetic, CASE, and
references to other fields written without parentheses) are filtered with every operator of
their type; the rows DuckDB returns equal a Python evaluation with SQL's three-valued logic."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metricql as mq
from tests.helpers import make_project

ROWS = [  # id, a, b, s, f
    (1, 1, 2, "apple", True),
    (2, -3, 0, "banana", False),
    (3, None, 5, None, None),
    (4, 4, None, "cherry", True),
    (5, 0, 0, "", False),
    (6, 2, -2, "apple pie", None),
    (7, None, None, "Banana", True),
    (8, 7, 3, "date", False),
]
Row = dict[str, Any]


@dataclass(frozen=True)
class Expr:
    """A field expression: the SQL a user writes (its own parts parenthesised as the user
    means them, the outermost operator bare) and its value per row in Python."""

    sql: str
    value: Callable[[Row], Any]


def _wrap(e: Expr) -> str:
    return f"({e.sql})"


def _binary(op: str, f: Callable[[Any, Any], Any]) -> Callable[[Expr, Expr], Expr]:
    """`x op y`, NULL when either side is NULL (arithmetic and comparisons alike)."""

    def build(x: Expr, y: Expr) -> Expr:
        def value(r: Row) -> Any:
            p, q = x.value(r), y.value(r)
            return None if p is None or q is None else f(p, q)

        return Expr(f"{_wrap(x)} {op} {_wrap(y)}", value)

    return build


def _and(x: Expr, y: Expr) -> Expr:
    def value(r: Row) -> Any:
        p, q = x.value(r), y.value(r)
        if p is False or q is False:
            return False
        return None if p is None or q is None else True

    return Expr(f"{_wrap(x)} AND {_wrap(y)}", value)


def _or(x: Expr, y: Expr) -> Expr:
    def value(r: Row) -> Any:
        p, q = x.value(r), y.value(r)
        if p is True or q is True:
            return True
        return None if p is None or q is None else False

    return Expr(f"{_wrap(x)} OR {_wrap(y)}", value)


def _not(x: Expr) -> Expr:
    return Expr(f"NOT {_wrap(x)}", lambda r: None if x.value(r) is None else not x.value(r))


def _is_null(x: Expr) -> Expr:
    return Expr(f"{_wrap(x)} IS NULL", lambda r: x.value(r) is None)


def _case(cond: Expr, then: Expr, other: Expr) -> Expr:
    return Expr(
        f"CASE WHEN {cond.sql} THEN {then.sql} ELSE {other.sql} END",
        lambda r: then.value(r) if cond.value(r) is True else other.value(r),
    )


NUMBER_ATOMS = st.sampled_from(
    [
        Expr("${TABLE}.a", lambda r: r["a"]),
        Expr("${TABLE}.b", lambda r: r["b"]),
        Expr("${ab}", lambda r: None if r["a"] is None or r["b"] is None else r["a"] + r["b"]),
        *(Expr(str(n), lambda r, n=n: n) for n in (0, 1, 2, 3)),
    ]
)
BOOL_ATOMS = st.sampled_from(
    [
        Expr("${TABLE}.f", lambda r: r["f"]),
        Expr("${positive}", lambda r: None if r["a"] is None else r["a"] > 0),
    ]
)
ARITH = [_binary("+", lambda p, q: p + q), _binary("-", lambda p, q: p - q)]
ARITH.append(_binary("*", lambda p, q: p * q))
CMPS = [
    _binary("=", lambda p, q: p == q),
    _binary("<>", lambda p, q: p != q),
    _binary("<", lambda p, q: p < q),
    _binary(">=", lambda p, q: p >= q),
]


def _numbers(bools: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    return st.recursive(
        NUMBER_ATOMS,
        lambda inner: st.one_of(
            st.builds(lambda f, x, y: f(x, y), st.sampled_from(ARITH), inner, inner),
            st.builds(_case, bools, inner, inner),
        ),
        max_leaves=4,
    )


BOOLS: st.SearchStrategy[Expr] = st.deferred(
    lambda: st.recursive(
        st.one_of(
            BOOL_ATOMS,
            st.builds(lambda f, x, y: f(x, y), st.sampled_from(CMPS), NUMBER_ATOMS, NUMBER_ATOMS),
        ),
        lambda inner: st.one_of(
            st.builds(_and, inner, inner),
            st.builds(_or, inner, inner),
            st.builds(_not, inner),
            st.builds(_is_null, _numbers(inner)),
            st.builds(
                lambda f, x, y: f(x, y), st.sampled_from(CMPS), _numbers(inner), NUMBER_ATOMS
            ),
        ),
        max_leaves=4,
    )
)
NUMBERS = _numbers(BOOLS)
TEXTS = st.one_of(
    st.just(Expr("${TABLE}.s", lambda r: r["s"])),
    st.builds(
        lambda c: _case(c, Expr("${TABLE}.s", lambda r: r["s"]), Expr("'zz'", lambda r: "zz")),
        BOOLS,
    ),
)


def _none_if_empty(values: list[Any], test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return (lambda v: True) if not values else test


# Lightdash semantics of each operator (SPEC §4.3): value list → row test on the field's value
OPERATORS: dict[str, Callable[[list[Any]], Callable[[Any], bool]]] = {
    "isNull": lambda vs: lambda v: v is None,
    "notNull": lambda vs: lambda v: v is not None,
    "equals": lambda vs: _none_if_empty(vs, lambda v: v is not None and v in vs),
    "notEquals": lambda vs: _none_if_empty(vs, lambda v: v is None or v not in vs),
    "lessThan": lambda vs: _none_if_empty(vs, lambda v: v is not None and v < vs[0]),
    "greaterThanOrEqual": lambda vs: _none_if_empty(vs, lambda v: v is not None and v >= vs[0]),
    "inBetween": lambda vs: lambda v: v is not None and vs[0] <= v <= vs[1],
    "notInBetween": lambda vs: lambda v: v is None or not (vs[0] <= v <= vs[1]),
    "startsWith": lambda vs: lambda v: v is not None and v.startswith(vs[0]),
    "include": lambda vs: lambda v: v is not None and vs[0] in v,
    "doesNotInclude": lambda vs: lambda v: v is None or vs[0] not in v,
}
BY_TYPE = {
    "number": (["isNull", "notNull", "equals", "notEquals", "lessThan", "greaterThanOrEqual",
                "inBetween", "notInBetween"], st.integers(-4, 8)),
    "boolean": (["isNull", "notNull", "equals", "notEquals"], st.booleans()),
    "string": (["isNull", "notNull", "equals", "notEquals", "startsWith", "include",
                "doesNotInclude"], st.sampled_from(["apple", "an", "zz", "date", "B"])),
}  # fmt: skip
EXPRESSIONS = {"number": NUMBERS, "boolean": BOOLS, "string": TEXTS}


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, Expr, str, list[Any]]:
    kind = draw(st.sampled_from(sorted(BY_TYPE)))
    names, values = BY_TYPE[kind]
    operator = draw(st.sampled_from(names))
    count = {"isNull": 0, "notNull": 0, "inBetween": 2, "notInBetween": 2}.get(operator, 1)
    chosen = [draw(values) for _ in range(count)]
    if operator in ("equals", "notEquals") and draw(st.booleans()):
        chosen.append(draw(values))  # any of several values
    if count == 2:
        chosen.sort()
    return kind, draw(EXPRESSIONS[kind]), operator, chosen


MODELS = """
models:
  - name: t
    columns:
      - name: id
        meta: {{dimension: {{type: number}}}}
      - name: a
        meta:
          dimension: {{type: number}}
          additional_dimensions:
            ab: {{type: number, sql: "${{TABLE}}.a + ${{TABLE}}.b"}}
            positive: {{type: boolean, sql: "${{TABLE}}.a > 0"}}
            e: {{type: {kind}, sql: {sql!r}}}
"""


@pytest.fixture(scope="module")
def conn() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.sql("CREATE TABLE main.t (id INT, a INT, b INT, s VARCHAR, f BOOLEAN)")
    con.executemany("INSERT INTO main.t VALUES (?, ?, ?, ?, ?)", ROWS)
    return con


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
def test_field_sql_keeps_its_meaning_in_every_filter_operator(
    tmp_path_factory: pytest.TempPathFactory,
    conn: duckdb.DuckDBPyConnection,
    case: tuple[str, Expr, str, list[Any]],
) -> None:
    kind, expression, operator, values = case
    root = make_project(
        tmp_path_factory.mktemp("p"), {"models": MODELS.format(kind=kind, sql=expression.sql)}
    )
    project = mq.load_project(root, strict=True)
    rule = {"id": "r", "target": {"fieldId": "t_e"}, "operator": operator, "values": values}
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "t",
            "dimensions": ["t_id"],
            "filters": {"dimensions": {"id": "g", "and": [rule]}},
            "limit": None,
        }
    )
    got = sorted(r["t_id"] for r in project.run(query, connection=conn).rows)
    keep = OPERATORS[operator](values)
    rows = [dict(zip(("id", "a", "b", "s", "f"), r, strict=True)) for r in ROWS]
    want = sorted(r["id"] for r in rows if keep(expression.value(r)))
    assert got == want, project.compile(query).sql


def test_the_issue_example(tmp_path: Path, conn: duckdb.DuckDBPyConnection) -> None:
    text = MODELS.format(kind="boolean", sql="${TABLE}.s = 'apple'")
    project = mq.load_project(make_project(tmp_path, {"models": text}))
    rule = {"id": "r", "target": {"fieldId": "t_e"}, "operator": "equals", "values": [False]}
    query = mq.MetricQuery.model_validate(
        {"exploreName": "t", "dimensions": ["t_id"],
         "filters": {"dimensions": {"id": "g", "and": [rule]}}}
    )  # fmt: skip
    assert "(\"t\".s = 'apple') = FALSE" in project.compile(query).sql
    assert sorted(r["t_id"] for r in project.run(query, connection=conn).rows) == [2, 4, 5, 6, 7, 8]
