"""Oracle tests: pivoted queries. Expected pivots are computed in Python from hand-written
SQL cells: ranks, limits and totals are never read from metricql's output."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import duckdb
import pytest
import sqlglot

import metricql as mq
from metricql.dialects import SUPPORTED
from tests.conftest import assert_same_rows

Cell = tuple[Any, ...]
POSITIONS = ["row_index", "column_index", "total_rows", "total_columns"]


def _nulls_last(values: Sequence[Any]) -> tuple[Any, ...]:
    return tuple((v is None, v if v is not None else 0) for v in values)


def _expected(
    cells: Sequence[Cell],
    n_index: int,
    n_group: int,
    *,
    row_key: Callable[[Cell], Any] = _nulls_last,
    column_key: Callable[[Cell], Any] = _nulls_last,
    row_limit: int = 500,
    column_limit: int = 100,
) -> list[Cell]:
    """The pivot's rows: each cell with its row and column rank, limited, in rank order."""
    rows = sorted({c[:n_index] for c in cells}, key=row_key)
    columns = sorted({c[n_index : n_index + n_group] for c in cells}, key=column_key)
    row_rank = {r: i + 1 for i, r in enumerate(rows)}
    column_rank = {c: i + 1 for i, c in enumerate(columns)}
    out = [(*c, row_rank[c[:n_index]], column_rank[c[n_index : n_index + n_group]]) for c in cells]
    kept = [
        (*c, len(rows), len(columns)) for c in out if c[-2] <= row_limit and c[-1] <= column_limit
    ]
    return sorted(kept, key=lambda c: (c[-4], c[-3]))


def _pivot_query(
    dimensions: list[str], metrics: list[str], config: dict[str, Any], **extra: Any
) -> mq.MetricQuery:
    return mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "dimensions": dimensions,
            "metrics": metrics,
            "pivotConfiguration": config,
            **extra,
        }
    )


def _ref(*ids: str) -> list[dict[str, str]]:
    return [{"reference": i} for i in ids]


def _year_status(config: dict[str, Any] | None = None, **extra: Any) -> mq.MetricQuery:
    """Revenue by year (index) × status (group-by), with `config` keys added to the pivot."""
    return _pivot_query(
        ["orders_order_date_year", "orders_status"],
        ["orders_total_revenue"],
        {
            "indexColumn": _ref("orders_order_date_year"),
            "valuesColumns": [{"reference": "orders_total_revenue"}],
            "groupByColumns": _ref("orders_status"),
            **(config or {}),
        },
        **extra,
    )


def _columns(result: mq.QueryResult) -> list[str]:
    return list(result.columns)


YEAR_STATUS_REVENUE = """
    SELECT date_trunc('year', order_date)::DATE AS y, status, SUM(amount) AS v
    FROM orders GROUP BY 1, 2"""


def test_one_group_by_column(project: mq.Project, duck: duckdb.DuckDBPyConnection) -> None:
    query = _pivot_query(
        ["orders_order_date_year", "orders_status"],
        ["orders_total_revenue"],
        {
            "indexColumn": {"reference": "orders_order_date_year", "type": "time"},
            "valuesColumns": [{"reference": "orders_total_revenue", "aggregation": "sum"}],
            "groupByColumns": _ref("orders_status"),
        },
    )
    got = project.run(query, connection=duck)
    cells = duck.sql(YEAR_STATUS_REVENUE).fetchall()
    want = _expected(cells, 1, 1)
    assert any(c[0] is None for c in cells) and any(c[1] is None for c in cells)  # NULLs last
    assert _columns(got) == [
        "orders_order_date_year",
        "orders_status",
        "orders_total_revenue_sum",
        *POSITIONS,
    ]
    assert_same_rows(got.rows, want, _columns(got), ordered=True)


def test_two_group_by_columns_and_average_cells(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    """Cells re-aggregate the query's rows: avg over the days of each status × year × gift."""
    query = _pivot_query(
        ["orders_status", "orders_order_date_year", "orders_is_gift", "orders_order_date_day"],
        ["orders_order_count"],
        {
            "indexColumn": _ref("orders_status"),
            "valuesColumns": [{"reference": "orders_order_count", "aggregation": "avg"}],
            "groupByColumns": _ref("orders_order_date_year", "orders_is_gift"),
        },
    )
    got = project.run(query, connection=duck)
    cells = duck.sql(
        """SELECT status, y, is_gift, AVG(n) FROM (
               SELECT status, date_trunc('year', order_date)::DATE AS y, is_gift,
                      order_date, COUNT(order_id) AS n
               FROM orders GROUP BY ALL) GROUP BY 1, 2, 3"""
    ).fetchall()
    want = _expected(cells, 1, 2)
    assert want[0][-1] > 6  # year × gift combinations
    assert_same_rows(got.rows, want, _columns(got), ordered=True)


def test_column_limit_keeps_the_first_columns(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    query = _year_status({"columnLimit": 2})
    got = project.run(query, connection=duck)
    want = _expected(duck.sql(YEAR_STATUS_REVENUE).fetchall(), 1, 1, column_limit=2)
    assert {r["column_index"] for r in got.rows} == {1, 2}
    assert got.rows[0]["total_columns"] > 2
    assert_same_rows(got.rows, want, _columns(got), ordered=True)


def test_default_column_limit_divides_lightdash_maximum_among_values(
    project: mq.Project,
) -> None:
    query = _pivot_query(
        ["orders_order_date_day", "orders_status"],
        ["orders_total_revenue", "orders_order_count"],
        {
            "indexColumn": _ref("orders_status"),
            "valuesColumns": _ref("orders_total_revenue", "orders_order_count"),
            "groupByColumns": _ref("orders_order_date_day"),
        },
    )
    # Lightdash's PivotQueryBuilder: floor(columnLimit / values), columnLimit 100 by default
    assert '"column_index" <= 50' in project.compile(query).sql
    as_rows = query.pivot_configuration.model_copy(update={"metrics_as_rows": True})  # type: ignore[union-attr]
    assert (
        '"column_index" <= 100'
        in project.compile(query.model_copy(update={"pivot_configuration": as_rows})).sql
    )
    capped = query.pivot_configuration.model_copy(update={"column_limit": 7})  # type: ignore[union-attr]
    assert (
        '"column_index" <= 3'
        in project.compile(query.model_copy(update={"pivot_configuration": capped})).sql
    )


def test_row_limit_counts_index_rows_not_raw_rows(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    query = _year_status(limit=2)
    got = project.run(query, connection=duck)
    want = _expected(duck.sql(YEAR_STATUS_REVENUE).fetchall(), 1, 1, row_limit=2)
    assert len(got.rows) > 2 and {r["row_index"] for r in got.rows} == {1, 2}
    assert got.rows[0]["total_rows"] > 2
    assert_same_rows(got.rows, want, _columns(got), ordered=True)


def _total_key(cells: Sequence[Cell], at: slice) -> Callable[[Cell], Any]:
    """Rank by the value's total over the cells sharing `at` (descending, NULL last)."""
    totals: dict[Cell, float] = {}
    for c in cells:
        if c[-1] is not None:
            totals[c[at]] = totals.get(c[at], 0.0) + float(c[-1])

    def key(group: Cell) -> Any:
        total = totals.get(group)
        return (total is None, -(total or 0.0), _nulls_last(group))

    return key


def test_sort_by_a_value_column_ranks_rows_and_columns_by_their_totals(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    query = _pivot_query(
        ["orders_order_date_year", "orders_status"],
        ["orders_total_revenue"],
        {
            "indexColumn": _ref("orders_order_date_year"),
            "valuesColumns": [{"reference": "orders_total_revenue", "aggregation": "sum"}],
            "groupByColumns": _ref("orders_status"),
            "sortBy": [{"reference": "orders_total_revenue", "direction": "DESC"}],
            "columnLimit": 3,
        },
        limit=3,
    )
    got = project.run(query, connection=duck)
    cells = duck.sql(YEAR_STATUS_REVENUE).fetchall()
    want = _expected(
        cells,
        1,
        1,
        row_key=_total_key(cells, slice(0, 1)),
        column_key=_total_key(cells, slice(1, 2)),
        row_limit=3,
        column_limit=3,
    )
    assert_same_rows(got.rows, want, _columns(got), ordered=True)
    first_columns = [r["orders_status"] for r in got.rows if r["row_index"] == 1]
    assert first_columns[0] == "completed"  # the largest status by revenue


def test_sort_by_index_and_group_columns_descending(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    query = _year_status(
        {
            "sortBy": [
                {"reference": "orders_status", "direction": "DESC"},
                {"reference": "orders_order_date_year", "direction": "DESC"},
            ]
        }
    )
    got = project.run(query, connection=duck)

    def descending(group: Cell) -> Any:  # NULL last, then the largest first
        return tuple((v is None, _Reverse(v)) for v in group)

    want = _expected(
        duck.sql(YEAR_STATUS_REVENUE).fetchall(), 1, 1, row_key=descending, column_key=descending
    )
    assert_same_rows(got.rows, want, _columns(got), ordered=True)


class _Reverse:
    """Orders values largest first."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Reverse) -> bool:
        return self.value is not None and other.value is not None and self.value > other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reverse) and self.value == other.value


def test_table_calculation_as_a_pivot_value(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    query = _pivot_query(
        ["orders_order_date_year", "orders_status"],
        ["orders_total_revenue", "orders_order_count"],
        {
            "indexColumn": _ref("orders_order_date_year"),
            "valuesColumns": [{"reference": "revenue_per_order", "aggregation": "max"}],
            "groupByColumns": _ref("orders_status"),
        },
        tableCalculations=[
            {
                "name": "revenue_per_order",
                "displayName": "Revenue per order",
                "sql": "${orders.total_revenue} / ${orders.order_count}",
            }
        ],
    )
    got = project.run(query, connection=duck)
    cells = duck.sql(
        """SELECT date_trunc('year', order_date)::DATE, status, SUM(amount) / COUNT(order_id)
           FROM orders GROUP BY 1, 2"""
    ).fetchall()
    assert_same_rows(got.rows, _expected(cells, 1, 1), _columns(got), ordered=True)


def test_no_group_by_is_one_column(project: mq.Project, duck: duckdb.DuckDBPyConnection) -> None:
    query = _pivot_query(
        ["orders_status", "orders_order_date_year"],
        ["orders_order_count"],
        {"indexColumn": _ref("orders_status"), "valuesColumns": _ref("orders_order_count")},
    )
    got = project.run(query, connection=duck)
    cells = duck.sql("SELECT status, COUNT(order_id) FROM orders GROUP BY 1").fetchall()
    assert_same_rows(got.rows, _expected(cells, 1, 0), _columns(got), ordered=True)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"indexColumn": _ref("orders_status"), "valuesColumns": []}, "valuesColumns"),
        (
            {"indexColumn": _ref("orders_amount"), "valuesColumns": _ref("orders_order_count")},
            "orders_amount",
        ),
        (
            {
                "indexColumn": _ref("orders_status"),
                "groupByColumns": _ref("orders_status"),
                "valuesColumns": _ref("orders_order_count"),
            },
            "orders_status",
        ),
        (
            {
                "indexColumn": _ref("orders_status"),
                "valuesColumns": _ref("orders_order_count"),
                "sortBy": [{"reference": "orders_total_revenue"}],
            },
            "orders_total_revenue",
        ),
        (
            {
                "indexColumn": _ref("orders_status"),
                "valuesColumns": _ref("orders_order_count", "orders_order_count"),
            },
            "orders_order_count_sum",
        ),
        (
            {
                "indexColumn": _ref("orders_status"),
                "valuesColumns": _ref("orders_order_count"),
                "sortBy": [
                    {"reference": "orders_status", "direction": "ASC"},
                    {"reference": "orders_status", "direction": "DESC"},
                ],
            },
            "orders_status",
        ),
    ],
)
def test_bad_pivots_are_named_query_errors(
    project: mq.Project, config: dict[str, Any], field: str
) -> None:
    query = _pivot_query(["orders_status"], ["orders_order_count", "orders_total_revenue"], config)
    with pytest.raises(mq.QueryError) as err:
        project.compile(query)
    assert err.value.context["field"] == field and err.value.hint


def test_unknown_aggregation_is_a_validation_error() -> None:
    with pytest.raises(ValueError, match="aggregation"):
        _pivot_query(
            ["orders_status"],
            ["orders_order_count"],
            {"valuesColumns": [{"reference": "orders_order_count", "aggregation": "median"}]},
        )


@pytest.mark.parametrize("dialect", SUPPORTED)
def test_pivot_renders_in_every_dialect(project: mq.Project, dialect: str) -> None:
    query = _pivot_query(
        ["orders_order_date_year", "orders_status"],
        ["orders_total_revenue"],
        {
            "indexColumn": _ref("orders_order_date_year"),
            "valuesColumns": [{"reference": "orders_total_revenue", "aggregation": "any"}],
            "groupByColumns": _ref("orders_status"),
            "sortBy": [{"reference": "orders_total_revenue", "direction": "DESC"}],
        },
    )
    sql = project.compile(query, dialect=dialect).sql
    assert sqlglot.parse_one(sql, read=dialect).find(sqlglot.exp.Window) is not None


# ---- laid out: pivot details and the Arrow table ----


def test_pivot_details_and_arrow_table_lay_out_the_cells(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    pa = pytest.importorskip("pyarrow")
    query = _pivot_query(
        ["orders_order_date_year", "orders_status"],
        ["orders_total_revenue", "orders_order_count"],
        {
            "indexColumn": {"reference": "orders_order_date_year", "type": "time"},
            "valuesColumns": _ref("orders_total_revenue", "orders_order_count"),
            "groupByColumns": _ref("orders_status"),
            "columnLimit": 6,  # 6 cells of a laid-out row: 3 statuses × 2 values
        },
    )
    result = project.run(query, connection=duck)
    cells = duck.sql(
        "SELECT date_trunc('year', order_date)::DATE, status, SUM(amount), COUNT(order_id) "
        "FROM orders GROUP BY 1, 2"
    ).fetchall()
    statuses = sorted({c[1] for c in cells}, key=lambda s: (s is None, s or ""))[:3]
    years = sorted({c[0] for c in cells}, key=lambda y: (y is None, y or y))
    details = result.pivot_details()
    assert details["totalColumnCount"] == len({c[1] for c in cells})
    assert details["indexColumn"] == [{"reference": "orders_order_date_year", "type": "time"}]
    names = [v["pivotColumnName"] for v in details["valuesColumns"]]
    assert names == [
        f"{value}_sum_{status}"
        for status in statuses
        for value in ("orders_total_revenue", "orders_order_count")
    ]
    assert details["valuesColumns"][0]["pivotValues"] == [
        {"referenceField": "orders_status", "value": statuses[0]}
    ]
    table = result.to_pivot_arrow()
    assert isinstance(table, pa.Table)
    assert table.column_names == ["orders_order_date_year", *names]
    assert table.column("orders_order_date_year").to_pylist() == years
    by_cell = {(c[0], c[1]): c for c in cells}
    for status in statuses:
        want = [by_cell.get((y, status), (None,) * 4)[3] for y in years]
        assert table.column(f"orders_order_count_sum_{status}").to_pylist() == want


def test_laying_out_an_unpivoted_result_is_a_query_error(project: mq.Project) -> None:
    result = project.run(mq.MetricQuery(explore_name="orders", metrics=["orders_order_count"]))
    with pytest.raises(mq.QueryError, match="pivotConfiguration"):
        result.pivot_details()


def test_summing_a_string_is_a_query_error_not_a_warehouse_error(project: mq.Project) -> None:
    query = _pivot_query(
        ["orders_status", "orders_order_date_year"],
        ["orders_order_count"],
        {"indexColumn": _ref("orders_order_date_year"), "valuesColumns": _ref("orders_status")},
    )
    with pytest.raises(mq.QueryError, match="cannot be aggregated with sum") as err:
        project.compile(query)
    assert err.value.context["field"] == "orders_status"
    counted = _pivot_query(
        ["orders_status", "orders_order_date_year"],
        ["orders_order_count"],
        {
            "indexColumn": _ref("orders_order_date_year"),
            "valuesColumns": [{"reference": "orders_status", "aggregation": "count"}],
        },
    )
    assert 'COUNT("orders_status")' in project.compile(counted).sql


def test_metrics_as_rows_lay_out_one_row_per_value(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    pytest.importorskip("pyarrow")
    query = _pivot_query(
        ["orders_order_date_year", "orders_status"],
        ["orders_total_revenue", "orders_order_count"],
        {
            "indexColumn": _ref("orders_order_date_year"),
            "valuesColumns": _ref("orders_total_revenue", "orders_order_count"),
            "groupByColumns": _ref("orders_status"),
            "metricsAsRows": True,
            "columnLimit": 2,
        },
    )
    result = project.run(query, connection=duck)
    assert '"column_index" <= 2' in result.sql
    unlimited = query.pivot_configuration.model_copy(update={"column_limit": None})  # type: ignore[union-attr]
    whole = project.compile(query.model_copy(update={"pivot_configuration": unlimited})).sql
    assert '"column_index" <= 100' in whole  # metrics as rows: the 100 cells are not divided
    table = result.to_pivot_arrow()
    cells = duck.sql(
        "SELECT date_trunc('year', order_date)::DATE, status, SUM(amount), COUNT(order_id) "
        "FROM orders GROUP BY 1, 2"
    ).fetchall()
    statuses = sorted({c[1] for c in cells}, key=lambda s: (s is None, s or ""))[:2]
    years = sorted({c[0] for c in cells}, key=lambda y: (y is None, y or y))
    assert table.column_names == ["orders_order_date_year", "metric", *statuses]
    assert table.column("metric").to_pylist() == [
        m for _ in years for m in ("orders_total_revenue_sum", "orders_order_count_sum")
    ]
    by_cell = {(c[0], c[1]): c for c in cells}
    counts = table.column(statuses[0]).to_pylist()[1::2]
    assert counts == [by_cell.get((y, statuses[0]), (None,) * 4)[3] for y in years]
