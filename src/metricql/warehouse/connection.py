"""The caller's own connection as a Warehouse: DuckDB, a SparkSession, or any DB-API 2.0."""

from __future__ import annotations

from typing import Any

from metricql.warehouse.base import Warehouse
from metricql.warehouse.dbapi import DBAPIWarehouse, is_duckdb
from metricql.warehouse.spark import SparkWarehouse, is_spark_session

_SPARK_DIALECTS = ("spark", "databricks")


def warehouse_for(connection: Any, dialect: str) -> Warehouse:
    """`connection` wrapped (never closed by the wrapper); a Warehouse is returned as is.

    DuckDB always compiles for DuckDB, a SparkSession for Spark (or Databricks when asked);
    a DB-API connection for `dialect`.
    """
    if is_duckdb(connection):
        from metricql.warehouse.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(connection)
    if is_spark_session(connection):
        return SparkWarehouse(
            connection, dialect=dialect if dialect in _SPARK_DIALECTS else "spark"
        )
    if isinstance(connection, Warehouse) and not hasattr(connection, "cursor"):
        return connection
    return DBAPIWarehouse(connection, dialect)
