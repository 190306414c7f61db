"""Ask a warehouse for the types of columns: its information_schema, over any connection."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlglot import exp

from metricql.errors import Issue, WarehouseError
from metricql.project.column_types import untyped, with_column_types
from metricql.project.schema import ProjectSchema
from metricql.warehouse import dbapi

_COLUMNS = exp.table_("columns", db="information_schema")
_BATCH = 200  # relations per statement: keeps the OR list within every engine's limits


def column_types(
    connection: Any, relations: Sequence[tuple[str, str]], dialect: str
) -> dict[tuple[str, str], dict[str, str]]:
    """(schema, table) → {column: warehouse type}, all lower case, for the relations that exist.

    An empty schema matches the table in any schema. Names are compared case-insensitively
    (Snowflake keeps them upper case); they reach the SQL as literals.
    """
    found: dict[tuple[str, str], dict[str, str]] = {}
    wanted = sorted(set(relations))
    for start in range(0, len(wanted), _BATCH):
        sql = _query(wanted[start : start + _BATCH]).sql(dialect=dialect)
        for schema, table, column, kind in _execute(connection, sql):
            key = (str(schema).lower(), str(table).lower())
            found.setdefault(key, {})[str(column).lower()] = str(kind)
    unqualified = {table for schema, table in wanted if not schema}
    for (_, table), columns in list(found.items()):
        if table in unqualified:
            found.setdefault(("", table), columns)
    return found


def _query(relations: Sequence[tuple[str, str]]) -> exp.Select:
    def lowered(name: str) -> exp.Expr:
        return exp.Lower(this=exp.column(name))

    matches = [
        exp.and_(
            lowered("table_name").eq(exp.Literal.string(table)),
            *([lowered("table_schema").eq(exp.Literal.string(schema))] if schema else []),
        )
        for schema, table in relations
    ]
    return (
        exp.select("table_schema", "table_name", "column_name", "data_type")
        .from_(_COLUMNS.copy())
        .where(exp.or_(*matches))
    )


def _execute(connection: Any, sql: str) -> list[tuple[Any, ...]]:
    if dbapi.is_duckdb(connection):
        from metricql.warehouse import duckdb as duck  # imported on use: DuckDB is heavy

        return duck.execute(connection, sql)[1]
    return dbapi.execute(connection, sql)[1]


def typed_from_warehouse(schema: ProjectSchema, connection: Any = None) -> ProjectSchema:
    """`schema` with its untyped columns typed by `connection`, else by the DuckDB target's file.

    Without a connection and without an existing DuckDB file nothing is asked; a warehouse that
    cannot answer is a load warning, and the columns stay strings.
    """
    missing = untyped(schema)
    target = schema.target
    if not missing:
        return schema
    owned = None
    if connection is None:
        path = target.duckdb_path if target is not None else None
        if target is None or path is None or not Path(path).is_file():
            return schema
        from metricql.warehouse import duckdb as duck

        try:
            connection = owned = duck.connect(target, read_only=True)
        except WarehouseError as err:
            return _warned(schema, f"the DuckDB target could not be opened: {err.message}")
    dialect = "duckdb" if dbapi.is_duckdb(connection) else target.dialect if target else "duckdb"
    try:
        types = column_types(connection, list(missing), dialect)
    except WarehouseError as err:
        return _warned(schema, f"the warehouse did not give column types: {err.message}")
    finally:
        if owned is not None:
            owned.close()
    return with_column_types(schema, types)


def _warned(schema: ProjectSchema, why: str) -> ProjectSchema:
    issue = Issue(
        "warehouse_types_unavailable",
        f"{why}; columns without a type in the YAML are strings",
        hint="give those columns meta.dimension.type, or pass a connection that can read them",
    )
    return schema.model_copy(update={"issues": (*schema.issues, issue)})
