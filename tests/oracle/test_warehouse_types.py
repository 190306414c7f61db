"""Columns the YAML leaves untyped take the warehouse's type: number filters, bins and booleans
work on them (issue 10, item 6). Oracles: hand-written SQL over the same DuckDB tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

import metricql as mq
from metricql.semantic.fields import DimensionType
from metricql.semantic.warehouse_types import warehouse_dimension_type
from tests.conftest import assert_same_rows
from tests.helpers import make_project

UNTYPED = """
version: 2
models:
  - name: orders
    columns:
      - name: order_id
        meta:
          metrics:
            order_count: {type: count_distinct}
      - name: order_date
      - name: ordered_at
      - name: status
      - name: amount
        meta:
          metrics:
            revenue: {type: sum}
      - name: is_gift
"""
WANT_TYPES = {
    "orders_order_id": DimensionType.NUMBER,
    "orders_order_date": DimensionType.DATE,
    "orders_ordered_at": DimensionType.TIMESTAMP,
    "orders_status": DimensionType.STRING,
    "orders_amount": DimensionType.NUMBER,
    "orders_is_gift": DimensionType.BOOLEAN,
}


def _profile(path: Path) -> str:
    dev = f"{{type: duckdb, path: '{path}', schema: main}}"
    return f"demo:\n  target: dev\n  outputs:\n    dev: {dev}\n"


@pytest.fixture
def untyped_root(tmp_path: Path) -> Path:
    return make_project(
        tmp_path / "shop", {"orders": UNTYPED}, profiles=_profile(tmp_path / "no.db")
    )


def _types(project: mq.Project) -> dict[str, DimensionType]:
    dims = project.explore("orders").dimensions
    return {i: dims[i].type for i in WANT_TYPES}


def _rule(field: str, operator: str, values: list[Any]) -> dict[str, Any]:
    return {"id": "r", "target": {"fieldId": field}, "operator": operator, "values": values}


def test_without_a_warehouse_untyped_columns_are_strings(untyped_root: Path) -> None:
    project = mq.load_project(untyped_root)
    assert set(_types(project).values()) == {DimensionType.STRING}
    query = mq.MetricQuery(
        explore_name="orders",
        metrics=["orders_order_count"],
        filters={"dimensions": {"id": "f", "and": [_rule("orders_amount", "greaterThan", [100])]}},
    )
    with pytest.raises(mq.QueryError):
        project.compile(query)


def test_a_connection_types_them(untyped_root: Path, duck: duckdb.DuckDBPyConnection) -> None:
    assert _types(mq.load_project(untyped_root, connection=duck)) == WANT_TYPES


def test_number_filter_bins_and_boolean_on_warehouse_typed_columns(
    untyped_root: Path, duck: duckdb.DuckDBPyConnection
) -> None:
    project = mq.load_project(untyped_root, connection=duck)
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "dimensions": ["amount_bin", "orders_is_gift"],
            "metrics": ["orders_order_count", "orders_revenue"],
            "customDimensions": [
                {"id": "amount_bin", "name": "Amount bin", "table": "orders", "type": "bin",
                 "dimensionId": "orders_amount", "binType": "fixed_width", "binWidth": 100}
            ],
            "filters": {"dimensions": {"id": "f", "and": [
                _rule("orders_amount", "greaterThan", [50]),
                _rule("orders_is_gift", "equals", [True]),
            ]}},
        }
    )  # fmt: skip
    want = duck.sql("""
        SELECT CAST(FLOOR(amount / 100) * 100 AS BIGINT) || ' - ' ||
               CAST(FLOOR(amount / 100) * 100 + 99 AS BIGINT), is_gift,
               COUNT(DISTINCT order_id), SUM(amount)
        FROM main.orders WHERE amount > 50 AND is_gift = TRUE
        GROUP BY 1, 2
    """).fetchall()
    assert len(want) > 1
    got = project.run(query, connection=duck).rows
    assert_same_rows(got, want, [*query.dimensions, *query.metrics])


def test_the_duckdb_target_types_them_without_being_asked(tmp_path: Path) -> None:
    database = tmp_path / "shop.duckdb"
    root = make_project(tmp_path / "shop", {"orders": UNTYPED}, profiles=_profile(database))
    with duckdb.connect(str(database)) as conn:
        conn.execute("CREATE TABLE main.orders AS SELECT * FROM read_csv(?)", [_orders_csv()])
    assert _types(mq.load_project(root)) == WANT_TYPES


def _orders_csv() -> str:
    return str(Path(__file__).resolve().parents[2] / "sample_projects/jaffle_shop/seeds/orders.csv")


def test_catalog_json_types_them(untyped_root: Path) -> None:
    catalog = {
        "nodes": {
            "model.demo.orders": {
                "metadata": {"type": "BASE TABLE", "schema": "main", "name": "orders"},
                "columns": {
                    "ORDER_ID": {"type": "BIGINT", "index": 1, "name": "ORDER_ID"},
                    "order_date": {"type": "DATE", "index": 2, "name": "order_date"},
                    "ordered_at": {"type": "TIMESTAMP", "index": 3, "name": "ordered_at"},
                    "amount": {"type": "DECIMAL(10,2)", "index": 4, "name": "amount"},
                    "is_gift": {"type": "BOOLEAN", "index": 5, "name": "is_gift"},
                },
            }
        },
        "sources": {},
    }
    (untyped_root / "target").mkdir()
    (untyped_root / "target" / "catalog.json").write_text(json.dumps(catalog))
    assert _types(mq.load_project(untyped_root)) == WANT_TYPES


TYPE_NAMES: dict[tuple[str, str], DimensionType] = {
    ("duckdb", "DECIMAL(10,2)"): DimensionType.NUMBER,
    ("duckdb", "HUGEINT"): DimensionType.NUMBER,
    ("duckdb", "TIMESTAMP WITH TIME ZONE"): DimensionType.TIMESTAMP,
    ("duckdb", "INTERVAL"): DimensionType.STRING,  # once a number: it contains "int"
    ("duckdb", "INTEGER[]"): DimensionType.STRING,
    ("duckdb", "STRUCT(a INTEGER)"): DimensionType.STRING,
    ("postgres", "double precision"): DimensionType.NUMBER,
    ("postgres", "timestamp without time zone"): DimensionType.TIMESTAMP,
    ("postgres", "character varying"): DimensionType.STRING,
    ("postgres", "time without time zone"): DimensionType.STRING,  # a time of day
    ("postgres", "point"): DimensionType.STRING,  # once a number: it contains "int"
    ("postgres", "int8"): DimensionType.NUMBER,
    ("snowflake", "NUMBER(38,0)"): DimensionType.NUMBER,
    ("snowflake", "TIMESTAMP_NTZ(9)"): DimensionType.TIMESTAMP,
    ("bigquery", "INT64"): DimensionType.NUMBER,
    ("bigquery", "ARRAY<INT64>"): DimensionType.STRING,
    ("bigquery", "BOOL"): DimensionType.BOOLEAN,
    ("clickhouse", "Nullable(Decimal(18, 2))"): DimensionType.NUMBER,
    ("clickhouse", "LowCardinality(Nullable(String))"): DimensionType.STRING,
    ("clickhouse", "DateTime64(3)"): DimensionType.TIMESTAMP,
    ("clickhouse", "Date32"): DimensionType.DATE,
    ("trino", "timestamp(3) with time zone"): DimensionType.TIMESTAMP,
    ("databricks", "TIMESTAMP_NTZ"): DimensionType.TIMESTAMP,
}


@pytest.mark.parametrize(("dialect", "name"), TYPE_NAMES)
def test_warehouse_type_names(dialect: str, name: str) -> None:
    assert warehouse_dimension_type(name, dialect) is TYPE_NAMES[dialect, name]
