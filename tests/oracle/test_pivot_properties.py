"""Property tests: random pivots of random orders queries (references maybe unselected, sorts
maybe foreign, every option) either run with the pivot's invariants or raise a QueryError."""

from __future__ import annotations

from typing import Any

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metricql as mq

DIMS = ["orders_status", "orders_order_date_year", "orders_is_gift", "customers_country"]
METRICS = ["orders_order_count", "orders_total_revenue", "orders_average_order_value"]
AGGREGATIONS = ["sum", "count", "avg", "min", "max", "any"]


@st.composite
def pivoted(draw: st.DrawFn) -> dict[str, Any]:
    dims = draw(st.lists(st.sampled_from(DIMS), min_size=1, max_size=3, unique=True))
    metrics = draw(st.lists(st.sampled_from(METRICS), min_size=1, max_size=2, unique=True))
    hostile = draw(st.integers(0, 4)) == 0  # one in five reads fields anywhere
    dim_refs = st.sampled_from([*DIMS, *METRICS, "row_index"] if hostile else dims)
    value_refs = st.sampled_from([*DIMS, *METRICS, "row_index"] if hostile else metrics)
    index = draw(st.lists(dim_refs, max_size=2, unique=True))
    group = draw(st.lists(dim_refs.filter(lambda r: hostile or r not in index), max_size=2))
    values = draw(st.lists(value_refs, min_size=0 if hostile else 1, max_size=2, unique=True))
    config = {
        "indexColumn": [{"reference": r} for r in index],
        "groupByColumns": [{"reference": r} for r in dict.fromkeys(group)],
        "valuesColumns": [
            {"reference": r, "aggregation": draw(st.sampled_from(AGGREGATIONS))} for r in values
        ],
        "sortBy": [
            {"reference": r, "direction": draw(st.sampled_from(["ASC", "DESC"]))}
            for r in draw(st.lists(st.sampled_from([*index, *group, *values] or ["x"]), max_size=2))
        ],
        "columnLimit": draw(st.one_of(st.none(), st.integers(1, 5))),
        "rowTotals": draw(st.booleans()),
        "columnTotals": draw(st.booleans()),
        "subtotals": draw(st.booleans()),
    }
    return {
        "exploreName": "orders",
        "dimensions": dims,
        "metrics": metrics,
        "limit": draw(st.one_of(st.none(), st.integers(1, 5))),
        "pivotConfiguration": config,
    }


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=pivoted())
def test_random_pivots_run_or_raise_a_query_error(
    project: mq.Project, duck: duckdb.DuckDBPyConnection, body: dict[str, Any]
) -> None:
    query = mq.MetricQuery.model_validate(body)
    try:
        result = project.run(query, connection=duck)
    except mq.QueryError as err:
        assert err.hint and err.code
        return
    pivot = result.pivot
    assert pivot is not None
    rows = result.rows
    cells = [tuple(r[c] for c in (*pivot.index, *pivot.group_by)) for r in rows]
    assert len(cells) == len(set(cells))  # one row per cell
    assert all(r["column_index"] <= pivot.column_limit for r in rows)
    if pivot.row_limit is not None:
        assert all(r["row_index"] <= pivot.row_limit for r in rows)
    positions = [(r["row_index"], r["column_index"]) for r in rows]
    assert positions == sorted(positions)
