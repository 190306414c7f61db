"""Formatted cell text as Lightdash's formatItemValue gives it, and its row shape."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metricql import CompiledField
from metricql.results.lightdash import formatted_value, lightdash_raw, lightdash_row
from metricql.semantic.fields import FieldKind


def _field(type_: str, **kw: Any) -> CompiledField:
    return CompiledField(id="t_f", label="F", type=type_, kind=FieldKind.METRIC, **kw)


CASES = [
    (None, _field("number"), "∅"),
    (1234.5678, _field("sum"), "1,234.568"),
    (1234, _field("count"), "1,234"),
    (1234.0, _field("number"), "1,234"),
    (Decimal("0.5"), _field("average", round=0), "1"),  # half away from zero
    (Decimal("-0.5"), _field("average", round=0), "-1"),
    (2.5, _field("number", round=2), "2.50"),
    (1.005, _field("number", round=2), "1.00"),  # the exact double is 1.00499…
    (1234.5, _field("sum", format="usd"), "$1,234.50"),
    (-3, _field("sum", format="gbp", round=0), "-£3"),
    (0.1234, _field("number", format="percent"), "12%"),
    (0.1234, _field("number", format="percent", round=1), "12.3%"),
    (12, _field("number", format="km"), "12 km"),
    (1234567, _field("number", format="id"), "1234567"),
    ("abc", _field("number"), "abc"),
    (dt.date(2024, 2, 3), _field("date"), "2024-02-03"),
    (dt.date(2024, 2, 3), _field("date", time_interval="MONTH"), "2024-02"),
    (dt.date(2024, 5, 1), _field("date", time_interval="QUARTER"), "2024-Q2"),
    (dt.date(2024, 5, 1), _field("date", time_interval="YEAR"), "2024"),
    (
        dt.datetime(2024, 1, 2, 3, 4, 5, 678000),
        _field("timestamp"),
        "2024-01-02, 03:04:05:678 (+00:00)",
    ),
    (
        dt.datetime(2024, 1, 2, 3, 4, 5),
        _field("timestamp", time_interval="HOUR"),
        "2024-01-02, 03 (+00:00)",
    ),
    (
        dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        _field("timestamp", time_interval="MINUTE"),
        "2024-01-02, 01:04 (+00:00)",
    ),
    (dt.date(2024, 1, 2), _field("max"), "2024-01-02, 00:00:00:000 (+00:00)"),
    (True, _field("boolean"), "Yes"),
    (False, _field("boolean"), "No"),
    (True, _field("string"), "true"),
    (3.0, _field("string"), "3"),
    ("x", None, "x"),
]


@pytest.mark.parametrize(("value", "field", "want"), CASES)
def test_formatted_value(value: Any, field: CompiledField | None, want: str) -> None:
    assert formatted_value(value, field) == want


def test_raw_dates_as_lightdash_sends_them() -> None:
    assert lightdash_raw(dt.date(2024, 1, 2)) == "2024-01-02T00:00:00.000Z"
    assert lightdash_raw(dt.datetime(2024, 1, 2, 3, 4, 5, 6000)) == "2024-01-02T03:04:05.006Z"
    assert lightdash_raw(Decimal("1.5")) == 1.5
    assert lightdash_raw(float("nan")) is None


def test_row_shape_over_a_real_result(project: Any) -> None:
    import metricql as mq

    query = mq.MetricQuery(
        explore_name="orders", dimensions=["orders_status"], metrics=["orders_order_count"]
    )
    result = project.run(query)
    rows = [lightdash_row(r, result.fields) for r in result.rows]
    assert len(rows) == len(result.rows)
    for got, raw in zip(rows, result.rows, strict=True):
        assert set(got) == {"orders_status", "orders_order_count"}
        assert got["orders_order_count"]["value"]["raw"] == raw["orders_order_count"]
        assert got["orders_order_count"]["value"]["formatted"] == f"{raw['orders_order_count']:,}"
        assert got["orders_status"]["value"]["formatted"] == (raw["orders_status"] or "∅")


@settings(max_examples=2000, deadline=None)
@given(
    value=st.one_of(
        st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
        st.integers(-(10**6), 10**6).map(lambda i: i / 16),  # exact binary ties at 3 decimals
        st.integers(-(10**6), 10**6).map(lambda i: i / 1000),
    ),
    digits=st.integers(0, 4),
)
def test_float_fast_path_rounds_like_the_exact_decimal(value: float, digits: int) -> None:
    from metricql.results.lightdash import _grouped

    for exact in (True, False):
        assert _grouped(value, digits, exact=exact) == _grouped(Decimal(value), digits, exact=exact)


def test_rows_equal_row_by_row(project: Any) -> None:
    import metricql as mq

    query = mq.MetricQuery(
        explore_name="orders",
        dimensions=["orders_order_date_month", "orders_status"],
        metrics=["orders_total_revenue", "orders_average_order_value"],
    )
    result = project.run(query)
    assert mq.lightdash_rows(result.rows, result.fields) == [
        lightdash_row(r, result.fields) for r in result.rows
    ]
