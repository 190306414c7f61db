"""ClickHouse in process (chdb), holding the sample seeds twice, and running compiled SQL.

    chdb.connect(":memory:") ─▶ session_timezone = 'UTC' ─▶ per seed: DuckDB writes its rows
    to Parquet ─▶ CREATE TABLE … ENGINE = Memory ─▶ INSERT … SELECT * FROM file(…, Parquet)

Two databases hold the same rows:
- `main`: every column Nullable, as DuckDB types a CSV column (the compiled SQL reads it);
- `not_null`: Nullable only where the seed holds a NULL, as ClickHouse tables are usually
  declared. A LEFT JOIN fills an unmatched non-Nullable column with 0 or '' unless
  `join_use_nulls = 1` (which the compiled SQL sets): only this database can show that.
The server keeps its defaults otherwise (no session settings but the time zone), so the SQL
must carry whatever it needs. chdb runs one embedded server per process: one connection.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
from sqlglot import exp

import metricql as mq
from tests.engines.seeds import SCHEMA, SOURCE, Column, Seed, engine_type, seeds, unavailable

NOT_NULL = "not_null"
DATABASES = (SCHEMA, NOT_NULL)
# DuckDB type of a seed column → the ClickHouse type holding the same values.
CLICKHOUSE_TYPES = {
    "BIGINT": "Int64",
    "INTEGER": "Int32",
    "DOUBLE": "Float64",
    "DATE": "Date32",  # Date stops at 2149 and starts at 1970
    "TIMESTAMP": "DateTime64(6)",  # microseconds, in the session's zone (UTC)
    "BOOLEAN": "Bool",
    "VARCHAR": "String",
}


def connect() -> Iterator[Any]:
    """A chdb DB-API connection holding the seeds in `main` and `not_null`."""
    try:
        import chdb
    except ImportError:
        unavailable("ClickHouse", "the chdb package is not installed (pip install -e '.[dev]')")
    connection = chdb.connect(":memory:")
    folder = Path(tempfile.mkdtemp(prefix="metricql-chdb-"))
    try:
        cursor = connection.cursor()
        cursor.execute("SET session_timezone = 'UTC'")  # DateTime64 columns and now()
        for seed in seeds():
            parquet = folder / f"{seed.name}.parquet"
            _write_parquet(seed, parquet)
            for database in DATABASES:
                _load(cursor, database, seed, parquet)
        cursor.close()
        yield connection
    finally:
        connection.close()
        shutil.rmtree(folder, ignore_errors=True)


def _write_parquet(seed: Seed, path: Path) -> None:
    """The rows DuckDB reads from the seed CSV, as Parquet keeping DuckDB's types."""
    with duckdb.connect() as reader:
        reader.sql(SOURCE, params=[str(seed.path)]).write_parquet(str(path))


def _load(cursor: Any, database: str, seed: Seed, parquet: Path) -> None:
    cursor.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
    nullable = database == SCHEMA
    columns = ", ".join(_column(seed, c, nullable=nullable) for c in seed.columns)
    cursor.execute(f"CREATE TABLE {database}.{seed.name} ({columns}) ENGINE = Memory")
    cursor.execute(f"INSERT INTO {database}.{seed.name} SELECT * FROM file('{parquet}', Parquet)")
    cursor.execute(f"SELECT count() FROM {database}.{seed.name}")
    assert cursor.fetchone() == (len(seed.rows),), f"{database}.{seed.name}: rows missing"


def _column(seed: Seed, column: Column, *, nullable: bool) -> str:
    kind = engine_type(CLICKHOUSE_TYPES, seed, column, "ClickHouse")
    if nullable or column.has_nulls:
        kind = f"Nullable({kind})"
    return f"`{column.name}` {kind}"


def sql_on(compiled: mq.CompiledQuery, database: str) -> str:
    """The compiled SQL reading its tables from `database` instead of `main`."""
    if database == SCHEMA:
        return compiled.sql
    tree = compiled.tree.copy()
    for table in tree.find_all(exp.Table):
        if table.db == SCHEMA:
            table.set("db", exp.to_identifier(database, quoted=True))
    return tree.sql(dialect=compiled.dialect)


def run_clickhouse(connection: Any, compiled: mq.CompiledQuery, sql: str) -> mq.QueryResult:
    """Execute `sql` (compiled's, maybe on another database); rows keyed like `project.run`'s."""
    cursor = connection.cursor()
    try:
        cursor.execute(sql)
        columns = [c[0] for c in cursor.description or ()]
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return mq.QueryResult.from_rows(compiled, columns, list(rows))
