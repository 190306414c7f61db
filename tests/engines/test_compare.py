"""The row comparison of engine tests: it must catch real differences and forgive only noise."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlglot import parse_one

from tests.engines.compare import SortKey, compare, normalise, sort_keys

COLUMNS = ("k", "v")


@pytest.mark.parametrize(
    ("got", "want"),
    [
        ([("a", Decimal("1.10"))], [("a", 1.1)]),  # NUMERIC vs DOUBLE
        ([("a", 1.0000000001)], [("a", 1.0)]),  # within 1e-9 relative
        ([("a", 3)], [("a", 3.0)]),  # BIGINT vs DOUBLE of one number
        ([("b", 1), ("a", 2)], [("a", 2), ("b", 1)]),  # unsorted query: any order
        ([("a", None)], [("a", None)]),
    ],
)
def test_equal_results(got: list[tuple[object, ...]], want: list[tuple[object, ...]]) -> None:
    norm = [tuple(normalise(v) for v in r) for r in got]
    assert compare(norm, [tuple(normalise(v) for v in r) for r in want], COLUMNS) is None


@pytest.mark.parametrize(
    ("got", "want", "why"),
    [
        ([("a", 1.00001)], [("a", 1.0)], "after sorting"),
        ([("a", 1)], [("a", True)], "number"),  # a boolean is not 1
        ([("a", "1")], [("a", 1)], "string"),
        ([("a", date(2024, 1, 1))], [("a", datetime(2024, 1, 1))], "date"),
        ([("a", 1)], [("a", 1), ("a", 1)], "1 rows, expected 2"),
        ([("a", 1), ("a", 1)], [("a", 1), ("b", 1)], "after sorting"),  # multisets
        ([("a", None)], [("a", 0)], "after sorting"),
        ([("a", timedelta(1))], [("a", 1)], "interval"),
    ],
)
def test_different_results(
    got: list[tuple[object, ...]], want: list[tuple[object, ...]], why: str
) -> None:
    problem = compare(got, want, COLUMNS)
    assert problem is not None and why in problem


def test_zoned_timestamps_compare_in_utc() -> None:
    zoned = datetime(2024, 1, 1, 13, tzinfo=timezone(timedelta(hours=1)))
    assert normalise(zoned) == datetime(2024, 1, 1, 12)


def test_sorted_results_compare_sort_keys_in_order() -> None:
    keys = (SortKey("k", descending=False),)
    want = [("a", 1), ("b", 2), (None, 3)]
    assert compare([("a", 1), ("b", 2), (None, 3)], want, COLUMNS, keys) is None
    problem = compare([(None, 3), ("a", 1), ("b", 2)], want, COLUMNS, keys)  # NULLs first
    assert problem is not None and "sort keys" in problem


def test_ties_may_come_in_any_order_and_limit_may_cut_them() -> None:
    keys = (SortKey("k", descending=False),)
    want = [("a", 1), ("a", 2), ("b", 3), ("b", 4)]
    assert compare([("a", 2), ("a", 1), ("b", 3), ("b", 4)], want, COLUMNS, keys) is None
    # LIMIT 3 cut the `b` group: which `b` row came is up to the engine.
    assert compare([("a", 2), ("a", 1), ("b", 4)], want[:3], COLUMNS, keys, limit=3) is None
    # ... but not the rows before the cut.
    assert compare([("a", 2), ("a", 9), ("b", 4)], want[:3], COLUMNS, keys, limit=3) is not None


def test_sort_keys_of_a_compiled_tree() -> None:
    tree = parse_one("SELECT k, v FROM t ORDER BY v DESC, CASE WHEN k = 'Monday' THEN 1 ELSE 0 END")
    assert sort_keys(tree) == (SortKey("v", descending=True), SortKey("k", descending=False))
    assert sort_keys(parse_one("SELECT k FROM t")) == ()
