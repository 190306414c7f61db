"""The sample as a BigQuery team writes it: YAML SQL in BigQuery's dialect run on DuckDB, column
types from the committed target/catalog.json, seeds in sub-folders (issue 10, acceptance)."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

import metricql as mq
from tests.conftest import assert_same_rows


def test_seeds_in_sub_folders_load(features: mq.Project) -> None:
    conn = duckdb.connect()
    assert sorted(features.seed(connection=conn)) == [
        "main.customers",
        "main.orders",
        "main.refunds",
    ]
    types = dict(conn.sql("SELECT column_name, data_type FROM duckdb_columns() "
                          "WHERE table_name = 'customers'").fetchall())  # fmt: skip
    assert types["signed_up_on"] == "DATE" and types["is_vip"] == "BOOLEAN"


def test_yaml_sql_is_read_as_bigquery(features: mq.Project) -> None:
    assert features.explore("orders").source_dialect == "bigquery"
    assert not [i for i in features.issues if i.code == "source_dialect_assumed"]


@pytest.mark.parametrize(
    ("field", "expression"),
    [
        ("orders_days_since_launch", "order_date - DATE '2024-01-01'"),
        ("orders_week_before", "order_date - INTERVAL 7 DAY"),
    ],
)
def test_bigquery_dimensions_mean_the_same_on_duckdb(
    features: mq.Project, fduck: duckdb.DuckDBPyConnection, field: str, expression: str
) -> None:
    query = mq.MetricQuery(explore_name="orders", dimensions=["orders_order_id", field])
    kind = "DATE" if "week" in field else "INT"
    want = fduck.sql(f"SELECT order_id, CAST({expression} AS {kind}) FROM main.orders").fetchall()
    assert_same_rows(features.run(query, connection=fduck).rows, want, query.dimensions)


def test_safe_divide_metric(features: mq.Project, fduck: duckdb.DuckDBPyConnection) -> None:
    query = mq.MetricQuery(
        explore_name="orders", dimensions=["orders_status"], metrics=["orders_average_order_value"]
    )
    want = fduck.sql(
        "SELECT status, SUM(amount) / COUNT(DISTINCT order_id) FROM main.orders GROUP BY 1"
    ).fetchall()
    assert_same_rows(
        features.run(query, connection=fduck).rows, want, query.dimensions + query.metrics
    )


def _filtered(field: str, operator: str, values: list[Any]) -> mq.MetricQuery:
    rule = {"id": "r", "target": {"fieldId": field}, "operator": operator, "values": values}
    return mq.MetricQuery.model_validate(
        {"exploreName": "customers", "dimensions": ["customers_name"], "metrics": [],
         "filters": {"dimensions": {"id": "g", "and": [rule]}}}
    )  # fmt: skip


@pytest.mark.parametrize(
    ("field", "operator", "values", "condition"),
    [
        ("customers_is_vip", "equals", [True], "is_vip"),
        ("customers_customer_id", "greaterThan", [2], "customer_id > 2"),
        ("customers_signed_up_on_year", "equals", ["2024"], "year(signed_up_on) = 2024"),
        ("customers_signed_up_on", "lessThan", ["2024-02"], "signed_up_on < DATE '2024-02-01'"),
    ],
)
def test_catalog_types_make_filters_typed(
    features: mq.Project,
    fduck: duckdb.DuckDBPyConnection,
    field: str,
    operator: str,
    values: list[Any],
    condition: str,
) -> None:
    explore = features.explore("customers")
    assert explore.dimensions["customers_is_vip"].type is mq.DimensionType.BOOLEAN
    got = sorted(r["customers_name"] for r in features.run(_filtered(field, operator, values),
                                                           connection=fduck).rows)  # fmt: skip
    want = sorted(
        r[0] for r in fduck.sql(f"SELECT name FROM main.customers WHERE {condition}").fetchall()
    )
    assert got == want and want
