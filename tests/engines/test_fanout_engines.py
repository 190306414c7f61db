"""Fan-out protection on PostgreSQL: the split, NULL-safe stitched SQL gives DuckDB's rows."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

import metricql as mq
from tests.engines.compare import compare, rows_of, sort_keys
from tests.engines.test_postgres import run_postgres

pytestmark = pytest.mark.engines

ORDERS = ["orders_order_count", "orders_total_revenue", "orders_average_amount",
          "orders_median_amount", "orders_p90_amount", "orders_average_order_value"]  # fmt: skip
QUERIES: dict[str, dict[str, Any]] = {
    "chasm_by_country": {
        "dimensions": ["customers_country"],
        "metrics": [
            *ORDERS,
            "payments_total_amount",
            "order_items_item_revenue",
            "customers_average_lifetime_score",
        ],
        "sorts": [{"fieldId": "customers_country", "nullsFirst": True}],
    },
    "orders_by_payment_method_filtered": {
        "dimensions": ["payments_payment_method", "orders_status"],
        "metrics": ORDERS,
        "filters": {
            "dimensions": {
                "id": "g",
                "and": [
                    {
                        "id": "r",
                        "target": {"fieldId": "payments_status"},
                        "operator": "equals",
                        "values": ["success"],
                    }
                ],
            },
            "metrics": {
                "id": "m",
                "and": [
                    {
                        "id": "s",
                        "target": {"fieldId": "orders_order_count"},
                        "operator": "greaterThan",
                        "values": [20],
                    }
                ],
            },
        },
    },
    "no_dimensions": {"metrics": [*ORDERS, "payments_payment_count", "order_items_item_count"]},
    "payments_explore_many_to_one": {
        "exploreName": "payments",
        "dimensions": ["payments_payment_method"],
        "metrics": [*ORDERS, "payments_total_amount"],
    },
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_fanout_postgres_rows_equal_duckdb_rows(
    project: mq.Project, duck: duckdb.DuckDBPyConnection, postgres: Any, name: str
) -> None:
    query = mq.MetricQuery.model_validate({"exploreName": "orders", "limit": None, **QUERIES[name]})
    want = project.run(query, connection=duck)
    compiled = project.compile(query, dialect="postgres")
    assert "fanout_" in compiled.sql
    got = run_postgres(postgres, compiled)
    columns = compiled.field_ids
    problem = compare(rows_of(got.rows, columns), rows_of(want.rows, columns), columns,
                      sort_keys(compiled.tree), query.limit)  # fmt: skip
    assert problem is None, f"{name}: postgres differs from duckdb: {problem}\n{compiled.sql}"
