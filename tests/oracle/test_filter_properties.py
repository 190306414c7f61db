"""Property test: random nested filter groups on the sample data count the same rows as an
independent Python evaluation (SQL three-valued logic) of the same predicate tree."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metricql as mq

Truth = bool | None  # SQL's TRUE / FALSE / NULL
FIELDS = {  # field id → (column in main.orders, kind)
    "orders_status": ("status", "string"),
    "orders_discount_code": ("discount_code", "string"),
    "orders_amount": ("amount", "number"),
    "orders_order_id": ("order_id", "number"),
    "orders_is_gift": ("is_gift", "boolean"),
    "orders_order_date": ("order_date", "date"),
    "orders_ordered_at": ("ordered_at", "timestamp"),
}
AWKWARD = [
    "completed",
    "shipped",
    "50%",
    "a%b_c",
    "SAVE_10",
    "O'Brien's",
    "naïve",
    "%",
    "_",
    "'); DROP TABLE orders; --",
    "x\\y",
    "Ünï",
    "",
    "comp",
    "ed",
    "d",
]


def _and(items: list[Truth]) -> Truth:
    if any(i is False for i in items):
        return False
    return None if any(i is None for i in items) else True


def _or(items: list[Truth]) -> Truth:
    if any(i is True for i in items):
        return True
    return None if any(i is None for i in items) else False


def _cmp(op: Callable[[Any, Any], bool]) -> Callable[[Any, list[Any]], Truth]:
    return lambda v, vals: None if v is None else op(v, vals[0])


def _text(
    pred: Callable[[str, str], bool], negate: bool = False
) -> Callable[[Any, list[Any]], Truth]:
    def check(v: Any, vals: list[Any]) -> Truth:
        vals = [x for x in vals if x != ""]
        if not vals:
            return True
        if v is None:
            return True if negate else None
        hit = any(pred(v, x) for x in vals)
        return not hit if negate else hit

    return check


PYTHON: dict[str, Callable[[Any, list[Any]], Truth]] = {
    "equals": lambda v, vals: True if not vals else (None if v is None else v in vals),
    "notEquals": lambda v, vals: True if not vals else (True if v is None else v not in vals),
    "isNull": lambda v, _: v is None,
    "notNull": lambda v, _: v is not None,
    "lessThan": _cmp(lambda a, b: a < b),
    "lessThanOrEqual": _cmp(lambda a, b: a <= b),
    "greaterThan": _cmp(lambda a, b: a > b),
    "greaterThanOrEqual": _cmp(lambda a, b: a >= b),
    "inBetween": lambda v, vals: (
        None if v is None else min(vals) <= v <= max(vals) if vals[0] <= vals[1] else False
    ),
    "notInBetween": lambda v, vals: True if v is None else not (vals[0] <= v <= vals[1]),
    "include": _text(lambda v, x: x in v),
    "doesNotInclude": _text(lambda v, x: x in v, negate=True),
    "startsWith": _text(lambda v, x: v.startswith(x)),
    "endsWith": _text(lambda v, x: v.endswith(x)),
}
OPERATORS = {
    "string": [
        "equals",
        "notEquals",
        "isNull",
        "notNull",
        "include",
        "doesNotInclude",
        "startsWith",
        "endsWith",
    ],
    "number": [
        "equals",
        "notEquals",
        "isNull",
        "notNull",
        "lessThan",
        "lessThanOrEqual",
        "greaterThan",
        "greaterThanOrEqual",
        "inBetween",
        "notInBetween",
    ],
    "boolean": ["equals", "notEquals", "isNull", "notNull"],
    "date": [
        "equals",
        "notEquals",
        "isNull",
        "notNull",
        "lessThan",
        "lessThanOrEqual",
        "greaterThan",
        "greaterThanOrEqual",
        "inBetween",
        "notInBetween",
    ],
    "timestamp": [
        "isNull",
        "notNull",
        "lessThan",
        "lessThanOrEqual",
        "greaterThan",
        "greaterThanOrEqual",
        "inBetween",
        "notInBetween",
    ],
}
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "string": st.one_of(st.sampled_from(AWKWARD), st.text(max_size=6)),
    "number": st.one_of(
        st.integers(-(10**12), 10**12),
        st.sampled_from([0, 10, 25.5, 100, 2000]),
        st.floats(-1e6, 1e6, allow_nan=False),
    ),
    "boolean": st.booleans(),
    "date": st.dates(date(2022, 12, 1), date(2026, 1, 31)),
    "timestamp": st.datetimes(datetime(2022, 12, 1), datetime(2026, 1, 31)),
}


@st.composite
def rules(draw: st.DrawFn) -> dict[str, Any]:
    field = draw(st.sampled_from(sorted(FIELDS)))
    kind = FIELDS[field][1]
    op = draw(st.sampled_from(OPERATORS[kind]))
    count = {"isNull": 0, "notNull": 0, "inBetween": 2, "notInBetween": 2}.get(op)
    if op.startswith(("less", "greater")):
        count = 1
    if kind == "boolean" and op in ("equals", "notEquals"):
        count = 1
    size = count if count is not None else draw(st.integers(0, 3))
    values = draw(st.lists(VALUES[kind], min_size=size, max_size=size))
    if op in ("inBetween", "notInBetween"):
        values = sorted(values)
    return {
        "id": "r",
        "target": {"fieldId": field},
        "operator": op,
        "values": values,
        "disabled": draw(st.booleans()) and draw(st.booleans()),
    }


groups = st.recursive(
    rules(),
    lambda children: st.builds(
        lambda kind, items: {"id": "g", kind: items},
        st.sampled_from(["and", "or"]),
        st.lists(children, min_size=0, max_size=3),
    ),
    max_leaves=6,
)


def _python_value(value: Any, kind: str) -> Any:
    if kind == "date" and isinstance(value, datetime):
        return value.date()
    return value


ABSENT = "absent"  # an empty group is no condition at all (it is dropped, not FALSE)


def _evaluate(item: dict[str, Any], row: dict[str, Any]) -> Truth | str:
    if "and" in item or "or" in item:
        parts = [_evaluate(i, row) for i in item.get("and", item.get("or", []))]
        present: list[Truth] = [p for p in parts if p != ABSENT]  # type: ignore[misc]
        if not present:
            return ABSENT
        return _and(present) if "and" in item else _or(present)
    if item["disabled"]:
        return True
    column, kind = FIELDS[item["target"]["fieldId"]]
    values = [_python_value(v, kind) for v in item["values"]]
    return PYTHON[item["operator"]](row[column], values)


_ROWS: list[dict[str, Any]] = []


def _order_rows(duck: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    if not _ROWS:
        rel = duck.sql("SELECT * FROM main.orders")
        _ROWS.extend(dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall())
    return _ROWS


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(group=groups)
def test_random_filter_groups_match_python(
    project: mq.Project, duck: duckdb.DuckDBPyConnection, group: dict[str, Any]
) -> None:
    top = group if ("and" in group or "or" in group) else {"id": "top", "and": [group]}
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "metrics": ["orders_order_count"],
            "limit": None,
            "filters": {"dimensions": top},
        }
    )
    got = project.run(query, connection=duck).rows[0]["orders_order_count"]
    want = sum(1 for row in _order_rows(duck) if _evaluate(top, row) in (True, ABSENT))
    assert got == want, project.compile(query).sql
