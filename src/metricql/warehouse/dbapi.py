"""Run compiled SQL on any DB-API 2.0 connection (psycopg, snowflake-connector, …)."""

from __future__ import annotations

from typing import Any

from metricql.errors import WarehouseError
from metricql.warehouse.base import Row


def is_duckdb(connection: Any) -> bool:
    """True for a DuckDB connection (handled by warehouse.duckdb)."""
    return type(connection).__module__.split(".")[0] in ("duckdb", "_duckdb")


def execute(connection: Any, sql: str) -> tuple[list[str], list[Row]]:
    """Execute one statement; driver errors become WarehouseError with the SQL attached."""
    if not hasattr(connection, "cursor"):
        raise WarehouseError(
            f"{type(connection).__name__} is not a DB-API connection (it has no cursor())",
            hint="pass a DuckDB connection or a DB-API 2.0 connection such as psycopg's",
        )
    cursor = connection.cursor()
    try:
        cursor.execute(sql)
        columns = [d[0] for d in cursor.description or ()]
        rows = [tuple(r) for r in cursor.fetchall()] if columns else []
    except Exception as err:  # driver errors have no common base class: map each once, here
        rollback = getattr(connection, "rollback", None)
        if callable(rollback):
            rollback()  # leave the connection usable after a failed statement
        raise WarehouseError(
            f"{type(err).__module__.split('.')[0]}: {str(err).strip()}",
            hint="check the SQL against the warehouse; the dialect must match the connection",
            sql=sql,
        ) from err
    finally:
        cursor.close()
    return columns, rows
