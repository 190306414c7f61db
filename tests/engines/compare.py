"""Do two engines' rows for one query agree? Normalised values, order only where SQL sorts.

- Numbers: int, float and Decimal are one kind; equal within 1e-9 relative (1e-12 absolute).
- Timestamps: zoned ones are read in UTC (the session zone) and compared naive.
- Kinds must agree cell by cell: a date is not a timestamp, a boolean is not a number.
- Sorted queries: the sequence of sort keys must be the same on both engines (same collation,
  same NULL placement); rows are then compared as multisets, because rows tied on the keys
  may come in any order. When LIMIT cut the result inside a tie group, that last group may
  hold different rows on each engine: only its keys are compared.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlglot import exp

REL_TOL = 1e-9
ABS_TOL = 1e-12

Row = tuple[Any, ...]


@dataclass(frozen=True)
class SortKey:
    """An output column an ORDER BY item sorts by."""

    column: str
    descending: bool


def sort_keys(tree: exp.Expr) -> tuple[SortKey, ...]:
    """The output columns of the outermost ORDER BY of a compiled query, in order.

    An item that is an expression (a CASE ranking day names in calendar order) stands for the
    columns it reads: rows equal on those columns are tied on the expression too.
    """
    order = tree.args.get("order")
    if order is None:
        return ()
    keys: list[SortKey] = []
    for item in order.expressions:
        columns = [item.this] if isinstance(item.this, exp.Column) else item.this.find_all(
            exp.Column)  # fmt: skip
        names = list(dict.fromkeys(c.name for c in columns))
        assert names, f"ORDER BY {item.sql()} reads no output column"
        keys += [SortKey(name, bool(item.args.get("desc"))) for name in names]
    return tuple(keys)


def normalise(value: Any) -> Any:
    """One comparable value per meaning (see the module docstring)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def kind(value: Any) -> str:
    """The kind of a normalised value; cells of both engines must have the same kind."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, datetime):  # before date: a datetime is a date
        return "timestamp"
    for kind_name, kind_type in (("date", date), ("string", str), ("interval", timedelta)):
        if isinstance(value, kind_type):
            return kind_name
    return type(value).__name__


def same_value(a: Any, b: Any) -> bool:
    """Equal normalised values: numbers within tolerance, anything else exactly."""
    if kind(a) != kind(b):
        return False
    if kind(a) == "number" and (isinstance(a, float) or isinstance(b, float)):
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return bool(a == b)


def same_row(a: Row, b: Row) -> bool:
    return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))


def _order_key(row: Row) -> tuple[tuple[int, Any], ...]:
    ranks = {"null": 0, "boolean": 1, "number": 2, "date": 3, "timestamp": 4, "string": 5}
    return tuple((ranks.get(kind(v), 9), v if kind(v) in ranks and v is not None else 0)
                 for v in row)  # fmt: skip


def multiset_diff(got: Sequence[Row], want: Sequence[Row]) -> str | None:
    """None when both hold the same rows (any order, numbers within tolerance); else why not."""
    if len(got) != len(want):
        return f"{len(got)} rows, expected {len(want)}"
    mine, theirs = sorted(got, key=_order_key), sorted(want, key=_order_key)
    for i, (a, b) in enumerate(zip(mine, theirs, strict=True)):
        if not same_row(a, b):
            near = theirs[max(0, i - 1) : i + 2]
            return f"after sorting both, row {i}: {a!r} != {b!r} (expected near it: {near!r})"
    return None


def rows_of(result_rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> list[Row]:
    """Normalised tuples of result dicts, in `columns` order."""
    return [tuple(normalise(r[c]) for c in columns) for r in result_rows]


def compare(
    got: Sequence[Row],
    want: Sequence[Row],
    columns: Sequence[str],
    keys: Sequence[SortKey] = (),
    limit: int | None = None,
) -> str | None:
    """None when `got` (one engine) agrees with `want` (the reference engine); else why not."""
    if len(got) != len(want):
        return f"{len(got)} rows, expected {len(want)}"
    for r, (a, b) in enumerate(zip(got, want, strict=True)):
        for c, (x, y) in enumerate(zip(a, b, strict=True)):
            if None not in (x, y) and kind(x) != kind(y):
                return f"row {r} column {columns[c]}: {kind(x)} {x!r}, expected {kind(y)} {y!r}"
    if not keys:
        return multiset_diff(got, want)
    index = [list(columns).index(k.column) for k in keys]
    key_of: Callable[[Row], Row] = lambda row: tuple(row[i] for i in index)  # noqa: E731
    for r, (a, b) in enumerate(zip(got, want, strict=True)):
        if not same_row(key_of(a), key_of(b)):
            sort = ", ".join(f"{k.column} {'DESC' if k.descending else 'ASC'}" for k in keys)
            return f"sort keys ({sort}) differ at row {r}: {key_of(a)!r} != {key_of(b)!r}"
    if limit is not None and len(want) == limit and want:
        last = key_of(want[-1])  # the tie group LIMIT may have cut: keys compared above
        got = [row for row in got if not same_row(key_of(row), last)]
        want = [row for row in want if not same_row(key_of(row), last)]
    return multiset_diff(got, want)
