"""Oracle tests: pivot totals and subtotals, and table calculations over a pivot. Expected
values are computed in Python from hand-written SQL (see test_pivots.py for the cells)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pytest

import metricql as mq
from tests.conftest import assert_same_rows
from tests.oracle.test_pivots import (
    YEAR_STATUS_REVENUE,
    Cell,
    _columns,
    _expected,
    _nulls_last,
    _pivot_query,
    _ref,
    _year_status,
)

# ---- totals and subtotals ----


def _has_arrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def _mean(values: list[Any]) -> float | None:
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def test_row_column_grand_totals_and_subtotals_average_the_query_rows(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    """Index (year, gift) × status; cells and totals average the daily order counts."""
    dims = ["orders_order_date_year", "orders_is_gift", "orders_status", "orders_order_date_day"]
    query = _pivot_query(
        dims,
        ["orders_order_count"],
        {
            "indexColumn": _ref("orders_order_date_year", "orders_is_gift"),
            "valuesColumns": [{"reference": "orders_order_count", "aggregation": "avg"}],
            "groupByColumns": _ref("orders_status"),
            "columnLimit": 3,
            "rowTotals": True,
            "columnTotals": True,
            "subtotals": True,
        },
        limit=4,
    )
    got = project.run(query, connection=duck)
    original = duck.sql(
        """SELECT date_trunc('year', order_date)::DATE, is_gift, status, count(order_id)
           FROM orders GROUP BY 1, 2, 3, order_date"""
    ).fetchall()

    def total(keep: Callable[[Cell], Cell]) -> dict[Cell, float | None]:
        groups: dict[Cell, list[Any]] = {}
        for row in original:
            groups.setdefault(keep(row), []).append(row[3])
        return {k: _mean(v) for k, v in groups.items()}

    cells = [(*k, v) for k, v in total(lambda r: r[:3]).items()]
    rows_total = total(lambda r: r[:2])
    columns_total = total(lambda r: r[2:3])
    grand = _mean([r[3] for r in original])
    subtotal = total(lambda r: (r[0], r[2]))
    want = [
        (
            *c,
            rows_total[c[:2]],
            columns_total[c[2:3]],
            grand,
            subtotal[(c[0], c[2])],
        )
        for c in _expected(cells, 2, 1, row_limit=4, column_limit=3)
    ]
    assert len({c[2] for c in cells}) > 3 and len({c[:2] for c in cells}) > 4  # limits bite
    assert rows_total[want[0][:2]] != _mean([c[3] for c in cells if c[:2] == want[0][:2]])
    assert_same_rows(got.rows, want, _columns(got), ordered=True)
    laid = got.to_pivot_arrow() if _has_arrow() else None
    if laid is not None:
        assert laid.column("orders_order_count_avg_row_total").to_pylist() == pytest.approx(
            [rows_total[k] for k in sorted({c[:2] for c in want}, key=_nulls_last)]
        )
    assert _columns(got)[-4:] == [
        f"orders_order_count_avg_{kind}"
        for kind in ("row_total", "column_total", "grand_total", "subtotal")
    ]


def test_subtotals_need_two_index_columns(project: mq.Project) -> None:
    with pytest.raises(mq.QueryError) as err:
        project.compile(_year_status({"subtotals": True}))
    assert err.value.context["field"] == "subtotals" and "two index" in err.value.message


# ---- table calculations keep their pivoted meaning ----


def test_row_and_row_total_are_pivot_aware(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    """row() counts years within each status column; row_total() sums a year's statuses."""
    query = _year_status(
        {
            "valuesColumns": [
                {"reference": "year_number", "aggregation": "max"},
                {"reference": "status_share", "aggregation": "max"},
            ]
        },
        sorts=[{"fieldId": "orders_order_date_year"}],
        tableCalculations=[
            {"name": "year_number", "displayName": "n", "sql": "row()"},
            {
                "name": "status_share",
                "displayName": "share",
                "sql": "${orders.total_revenue} / row_total(${orders.total_revenue})",
            },
        ],
    )
    got = project.run(query, connection=duck)
    flat = duck.sql(YEAR_STATUS_REVENUE).fetchall()
    per_year: dict[Any, float] = {}
    for year, _, value in flat:
        per_year[year] = per_year.get(year, 0.0) + float(value or 0)
    number: dict[tuple[Any, Any], int] = {}
    for status in {c[1] for c in flat}:
        years = sorted((c[0] for c in flat if c[1] == status), key=lambda y: (y is None, y or 0))
        number |= {(y, status): i + 1 for i, y in enumerate(years)}
    cells = [(y, s, number[(y, s)], float(v) / per_year[y]) for y, s, v in flat]
    assert max(number.values()) < len({c[0] for c in flat}) + 1
    assert any(n != 1 for n in number.values()) and len(set(number.values())) > 1
    assert_same_rows(got.rows, _expected(cells, 1, 1), _columns(got), ordered=True)


def test_grand_totals_of_a_pivoted_or_zoomed_query_are_its_metrics_totals(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    pivoted = _year_status(dateZoom={"granularity": "Month"})
    totals = project.totals(pivoted, connection=duck)
    (want,) = duck.sql("SELECT SUM(amount) FROM orders").fetchall()[0]
    assert totals["orders_total_revenue"] == pytest.approx(want)


def test_column_subtotals_group_all_but_the_last_group_by(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    """Status × (year, gift): the column subtotal of a cell sums its status and year."""
    query = _pivot_query(
        ["orders_status", "orders_order_date_year", "orders_is_gift"],
        ["orders_total_revenue"],
        {
            "indexColumn": _ref("orders_status"),
            "valuesColumns": [{"reference": "orders_total_revenue"}],
            "groupByColumns": _ref("orders_order_date_year", "orders_is_gift"),
            "subtotals": True,
        },
    )
    got = project.run(query, connection=duck)
    cells = duck.sql(
        """SELECT status, date_trunc('year', order_date)::DATE, is_gift, SUM(amount)
           FROM orders GROUP BY 1, 2, 3"""
    ).fetchall()
    subtotal: dict[Cell, float] = {}
    for status, year, _, value in cells:
        subtotal[(status, year)] = subtotal.get((status, year), 0.0) + float(value or 0)
    want = [(*c, subtotal[(c[0], c[1])]) for c in _expected(cells, 1, 2)]
    assert _columns(got)[-1] == "orders_total_revenue_sum_column_subtotal"
    assert_same_rows(got.rows, want, _columns(got), ordered=True)
