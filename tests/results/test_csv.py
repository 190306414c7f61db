"""Lightdash CSV downloads (SPEC §9): columns, header, cells, limits, written row by row."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import duckdb

import metricql as mq
from metricql.results.csv import CSV_CELLS_LIMIT, CsvOptions, csv_row_cap, write_csv
from metricql.semantic.fields import FieldKind


def _query() -> mq.MetricQuery:
    return mq.MetricQuery(
        explore_name="orders",
        dimensions=["orders_status", "orders_order_date_month"],
        metrics=["orders_order_count", "orders_total_revenue"],
        sorts=[{"field_id": "orders_order_date_month"}, {"field_id": "orders_status"}],
        limit=1000,
    )


def _read(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_raw_csv_equals_hand_written_sql(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    result = project.run(_query(), connection=duck)
    out = io.StringIO()
    options = CsvOptions(
        only_raw=True,
        column_order=["orders_order_count", "orders_status"],
        hidden_fields=["orders_total_revenue"],
        custom_labels={"orders_status": "State"},
    )
    summary = write_csv(result.fields, result.rows, out, options)
    lines = _read(out.getvalue())
    # not in column_order → first; then the listed order
    assert lines[0] == ["Order date month", "Order count", "State"]
    want = duck.sql(
        """SELECT strftime(DATE_TRUNC('month', order_date), '%Y-%m-%d'), COUNT(order_id), status
           FROM main.orders GROUP BY ALL ORDER BY 1 NULLS LAST, 3 NULLS LAST"""
    ).fetchall()
    got = [tuple(r) for r in lines[1:]]
    assert got == [(m or "", str(c), s or "") for m, c, s in want]
    assert summary.rows == len(want) and not summary.truncated
    assert summary.columns == ("orders_order_date_month", "orders_order_count", "orders_status")


def test_formatted_csv_uses_lightdash_formats_and_table_names(
    project: mq.Project, duck: Any
) -> None:
    query = mq.MetricQuery(
        explore_name="orders", metrics=["orders_total_revenue", "orders_order_count"]
    )
    result = project.run(query, connection=duck)
    out = io.StringIO()
    write_csv(result.fields, result.rows, out, CsvOptions(show_table_names=True))
    header, row = _read(out.getvalue())
    assert header == ["Orders Total revenue", "Orders Order count"]
    # fetchall, not fetchone: an unfinished result would block the shared connection
    ((revenue, count),) = duck.execute(
        "SELECT SUM(amount), COUNT(order_id) FROM main.orders"
    ).fetchall()
    assert row[1] == f"{count:,}"
    assert row[0] == f"${float(revenue):,.2f}"  # total_revenue has format: usd


def test_max_rows_and_quoting() -> None:
    field = mq.CompiledField(id="t_x", label="X", type="string", kind=FieldKind.DIMENSION)
    stamp = mq.CompiledField(id="t_at", label="At", type="timestamp", kind=FieldKind.DIMENSION)
    rows = [
        {"t_x": 'a,"b"\nc', "t_at": dt.datetime(2024, 1, 2, 3, 4, 5, 600000)},
        {"t_x": None, "t_at": None},
        {"t_x": "never", "t_at": None},
    ]
    out = io.StringIO()
    summary = write_csv([field, stamp], iter(rows), out, CsvOptions(max_rows=2))
    assert out.getvalue() == '\ufeffX,At\n"a,""b""\nc",2024-01-02 03:04:05.600\n,\n'
    assert summary.rows == 2


def test_row_cap_follows_csv_limit_rules() -> None:
    assert csv_row_cap(None, query_limit=500, columns=4, unset=True) == 500
    assert csv_row_cap(None, query_limit=500, columns=4) == CSV_CELLS_LIMIT // 4
    assert csv_row_cap(10, query_limit=500, columns=4) == 10
    assert csv_row_cap(10**9, query_limit=500, columns=3) == CSV_CELLS_LIMIT // 3
