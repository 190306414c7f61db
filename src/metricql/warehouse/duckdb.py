"""Embedded DuckDB: open a profile's database, load seeds, run SQL. The only duckdb importer.

DuckDB connections are not thread-safe, so every call here runs on its own `cursor()`.
Note that a cursor does not see the TEMP tables of the connection it came from.

Queries are fetched as Arrow when pyarrow is installed (several times faster than
`fetchall()` for large results). A column whose Arrow form would lose what `fetchall()` gives
(BIT, TIME WITH TIME ZONE, a MAP, a HUGEINT inside a LIST …) sends its query down the
`fetchall()` path, so the Python values are the same either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb
from sqlglot import exp

from metricql.errors import WarehouseError
from metricql.project.profile import ProfileTarget
from metricql.warehouse.arrow import capped_batches, capped_rows, has_pyarrow
from metricql.warehouse.base import NO_LIMITS, Execution, Fetched, Row, Stream, TableName
from metricql.warehouse.timeouts import cancel_after

__all__ = [
    "DuckDBWarehouse",
    "connect",
    "execute",
    "fetch",
    "load_seeds",
    "missing_tables",
    "stream",
]

T = TypeVar("T")
_IN_MEMORY = ":memory:"
_BATCH_ROWS = 131_072  # rows per Arrow record batch / fetchmany chunk
# DuckDB type → the conversion (warehouse.arrow.CONVERTERS) that gives fetchall()'s values.
_PYTHON_BY_TYPE: Mapping[str, str] = {
    "HUGEINT": "int",
    "UHUGEINT": "int",
    "UUID": "uuid",
    "INTERVAL": "interval",
    "TIMESTAMP_NS": "timestamp_us",
}
# Types whose Arrow form loses what fetchall() gives, alone or nested (the conversions above
# apply to whole columns only): such results take the fetchall() path.
_ROWS_ONLY = ("BIT", "BIGNUM", "VARINT", "TIME WITH TIME ZONE", "UNION", "MAP(", *_PYTHON_BY_TYPE)

# First match wins: duckdb's exception classes, most specific first.
_HINTS: tuple[tuple[type[duckdb.Error], str], ...] = (
    (
        duckdb.CatalogException,
        "a table, column or function is missing: load the data (`metricql seed PROJECT`) "
        "or check the model's relation and column names",
    ),
    (
        duckdb.BinderException,
        "a column or expression does not fit the tables: check the `sql` of the fields "
        "named in the message",
    ),
    (
        duckdb.ParserException,
        "DuckDB could not parse the SQL; if metricql generated it, please report it with the SQL",
    ),
    (
        duckdb.ConversionException,
        "a value could not be converted to the type asked for: check casts and filter values",
    ),
    (duckdb.IOException, "check that the file exists, is readable, and is not locked"),
)
_DEFAULT_HINT = "check the SQL attached to this error"


@dataclass(frozen=True)
class DuckDBWarehouse:
    """A DuckDB connection as a `Warehouse`; `owned`: close() closes the connection."""

    connection: duckdb.DuckDBPyConnection
    dialect: str = "duckdb"
    owned: bool = False

    def execute(self, sql: str) -> tuple[list[str], list[Row]]:
        """Run one statement; return its column names and rows."""
        return execute(self.connection, sql)

    def fetch(self, sql: str, execution: Execution = NO_LIMITS) -> Fetched:
        """Run one query; an Arrow table when pyarrow is installed, else rows."""
        return fetch(self.connection, sql, execution)

    def stream(self, sql: str, execution: Execution = NO_LIMITS) -> Stream:
        """Run one query; record batches (or row chunks) as they are read."""
        return stream(self.connection, sql, execution)

    def close(self) -> None:
        """Close the connection if the warehouse opened it."""
        if self.owned:
            self.connection.close()

    def missing_tables(self, names: Sequence[TableName]) -> list[TableName]:
        """Those of `names` not in the current database."""
        return missing_tables(self.connection, names)


def connect(target: ProfileTarget, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB database of a profile target, creating the file's folder if needed."""
    path = target.duckdb_path
    if path is None:
        raise WarehouseError(
            f"target {target.target!r} of profile {target.profile!r} is a {target.type!r} "
            "warehouse; metricql runs queries on DuckDB only",
            hint="compile the query (`metricql compile`) and run the SQL on that warehouse, "
            "or pass a DuckDB connection",
            profile=target.profile,
            target=target.target,
        )
    is_file = path != _IN_MEMORY and not path.startswith("md:")
    if is_file:
        _prepare_file(Path(path), read_only=read_only)
    try:
        return duckdb.connect(path, read_only=read_only and is_file)
    except duckdb.Error as err:
        raise WarehouseError(
            f"cannot open DuckDB database {path}: {err}",
            hint="check the profile's `path`; DuckDB allows one writing process per file, "
            "so close other programs using it",
            database=path,
        ) from err


def _prepare_file(path: Path, *, read_only: bool) -> None:
    if read_only:
        if not path.exists():
            raise WarehouseError(
                f"DuckDB database {path} does not exist",
                hint="run `metricql seed PROJECT` to create it",
                database=str(path),
            )
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise WarehouseError(
            f"cannot create the folder of DuckDB database {path}: {err.strerror}",
            hint="check the profile's `path` and the folder's permissions",
            database=str(path),
        ) from err


def load_seeds(
    connection: duckdb.DuckDBPyConnection,
    seed_files: Sequence[Path],
    schema: str | None,
    column_types: Mapping[str, Mapping[str, str]] | None = None,
) -> list[str]:
    """Load each CSV as table `<schema>.<file stem>`, like `dbt seed`; all or nothing.

    Column types come from the seed's dbt `column_types` (by file stem), else DuckDB's CSV
    sniffer; empty fields (quoted or not) become NULL.
    Returns the tables' names (`schema.table`, or `table` without a schema).
    """
    _check_unique_stems(seed_files)
    cursor = connection.cursor()
    try:
        _run(cursor, "BEGIN TRANSACTION")
        try:
            if schema:
                _run(cursor, f"CREATE SCHEMA IF NOT EXISTS {_quoted(schema)}")
            types = column_types or {}
            loaded = [
                _load_seed(cursor, Path(path), schema, types.get(Path(path).stem))
                for path in seed_files
            ]
        except BaseException:
            cursor.rollback()
            raise
        _run(cursor, "COMMIT")
    finally:
        cursor.close()
    return loaded


def _load_seed(
    cursor: duckdb.DuckDBPyConnection,
    path: Path,
    schema: str | None,
    types: Mapping[str, str] | None,
) -> str:
    table = exp.table_(path.stem, db=schema, quoted=True).sql(dialect="duckdb")
    sql = f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_csv(?, header = true"
    if types:  # a parameter: DuckDB parses each type name, nothing reaches the SQL text
        _run(cursor, f"{sql}, types = ?)", [str(path), dict(types)], file=str(path))
    else:
        _run(cursor, f"{sql})", [str(path)], file=str(path))
    return f"{schema}.{path.stem}" if schema else path.stem


def _check_unique_stems(seed_files: Sequence[Path]) -> None:
    seen: dict[str, Path] = {}
    for path in map(Path, seed_files):
        if path.stem in seen:
            raise WarehouseError(
                f"seeds {seen[path.stem]} and {path} would both load table {path.stem!r}",
                hint="rename one of the files; a seed's table is named after its file",
                file=str(path),
            )
        seen[path.stem] = path


def missing_tables(
    connection: duckdb.DuckDBPyConnection, names: Sequence[TableName]
) -> list[TableName]:
    """Those of `(schema, table)` not in the current database (schema None = current schema).

    Matching ignores case, like DuckDB's identifiers. Order kept, duplicates dropped.
    """
    if not names:
        return []
    sql = (
        "SELECT lower(table_schema), lower(table_name) FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND list_contains(?, lower(table_name))"
    )
    cursor = connection.cursor()
    try:
        current = _run(cursor, "SELECT current_schema()").fetchone()
        wanted = sorted({table.lower() for _, table in names})
        present = set(_run(cursor, sql, [wanted]).fetchall())
    finally:
        cursor.close()
    current_schema = str(current[0]).lower() if current else "main"
    missing: list[TableName] = []
    for name in dict.fromkeys(names):
        schema, table = name
        if ((schema or current_schema).lower(), table.lower()) not in present:
            missing.append(name)
    return missing


def execute(connection: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[Row]]:
    """Run one statement on a fresh cursor; return its column names and rows."""
    cursor = connection.cursor()
    try:
        _run(cursor, sql)
        if cursor.description is None:  # a statement without a result set
            return [], []
        columns = [str(column[0]) for column in cursor.description]
        rows = _fetch_all(cursor, sql)
    finally:
        cursor.close()
    return columns, rows


def _fetch_all(cursor: duckdb.DuckDBPyConnection, sql: str) -> list[Row]:
    return _guarded(sql, lambda: [tuple(row) for row in cursor.fetchall()])


def fetch(
    connection: duckdb.DuckDBPyConnection, sql: str, execution: Execution = NO_LIMITS
) -> Fetched:
    """Run one query on a fresh cursor and fetch its rows (at most `execution.max_rows`)."""
    cursor = connection.cursor()
    try:
        with cancel_after(execution.timeout, cursor.interrupt, sql):
            return _fetched(cursor, sql, execution.max_rows)
    finally:
        cursor.close()


def _fetched(cursor: duckdb.DuckDBPyConnection, sql: str, cap: int | None) -> Fetched:
    relation, python = _arrow_plan(cursor, sql)
    if relation is None or python is None:
        columns, rows = _rows(cursor, sql, cap)
        return Fetched(tuple(columns), rows=rows)
    table = _guarded(sql, lambda: _table(relation, cap))
    return Fetched(tuple(relation.columns), table=table, python=python)


def stream(
    connection: duckdb.DuckDBPyConnection, sql: str, execution: Execution = NO_LIMITS
) -> Stream:
    """Run one query on a fresh cursor, open until the stream is read or closed.

    The timeout bounds each chunk's fetch: the reader, not DuckDB, sets the pace.
    """
    cursor = connection.cursor()
    cap = execution.max_rows
    try:
        with cancel_after(execution.timeout, cursor.interrupt, sql):
            relation, python = _arrow_plan(cursor, sql)
            if relation is None or python is None:
                _run(cursor, sql)
                columns = [str(c[0]) for c in cursor.description or ()]
                chunks = capped_rows(cursor.fetchmany, cap, _BATCH_ROWS) if columns else iter(())
            else:
                columns = list(relation.columns)
                chunks = capped_batches(_guarded(sql, lambda: _reader(relation)), cap)
    except BaseException:
        cursor.close()
        raise
    timed = _timed(chunks, execution.timeout, cursor, sql)
    return Stream(columns, timed, cursor.close, python)


def _timed(
    chunks: Iterator[Any], timeout: float | None, cursor: duckdb.DuckDBPyConnection, sql: str
) -> Iterator[Any]:
    while True:
        with cancel_after(timeout, cursor.interrupt, sql):
            chunk = _guarded(sql, lambda: next(chunks, None))
        if chunk is None:
            return
        yield chunk


def _arrow_plan(
    cursor: duckdb.DuckDBPyConnection, sql: str
) -> tuple[duckdb.DuckDBPyRelation | None, dict[str, str] | None]:
    """The query as a relation with its per-column conversions, or (None, None) when it must
    take the fetchall() path (no pyarrow, or a column Arrow would change)."""
    if not has_pyarrow():
        return None, None
    relation = _guarded(sql, lambda: cursor.sql(sql))
    if relation is None:
        return None, None
    python: dict[str, str] = {}
    for name, kind in zip(relation.columns, map(str, relation.types), strict=True):
        if kind in _PYTHON_BY_TYPE:
            python[name] = _PYTHON_BY_TYPE[kind]
        elif any(token in kind for token in _ROWS_ONLY):
            return None, None
    return relation, python


def _table(relation: duckdb.DuckDBPyRelation, max_rows: int | None) -> Any:
    if max_rows is None:  # one call: DuckDB builds the table in parallel
        to_table = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
        return to_table()
    import pyarrow

    reader = _reader(relation)
    return pyarrow.Table.from_batches(list(capped_batches(reader, max_rows)), reader.schema)


def _reader(relation: duckdb.DuckDBPyRelation) -> Any:
    """An Arrow RecordBatchReader (`to_arrow_reader` in DuckDB 2, `fetch_arrow_reader` before)."""
    to_reader = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader
    return to_reader(_BATCH_ROWS)


def _rows(
    cursor: duckdb.DuckDBPyConnection, sql: str, cap: int | None
) -> tuple[list[str], list[Row]]:
    _run(cursor, sql)
    if cursor.description is None:  # a statement without a result set
        return [], []
    columns = [str(column[0]) for column in cursor.description]
    if cap is None:
        return columns, _fetch_all(cursor, sql)
    chunks = _guarded(sql, lambda: list(capped_rows(cursor.fetchmany, cap, _BATCH_ROWS)))
    return columns, [row for chunk in chunks for row in chunk]


def _guarded(sql: str, read: Callable[[], T]) -> T:
    try:
        return read()
    except duckdb.Error as err:  # errors can surface while streaming results too
        raise _warehouse_error(err, sql) from err


def _run(
    cursor: duckdb.DuckDBPyConnection,
    sql: str,
    parameters: Sequence[Any] | None = None,
    **context: Any,
) -> duckdb.DuckDBPyConnection:
    try:
        return cursor.execute(sql, parameters)
    except duckdb.Error as err:
        raise _warehouse_error(err, sql, **context) from err


def _warehouse_error(err: duckdb.Error, sql: str, **context: Any) -> WarehouseError:
    hint = next((h for kind, h in _HINTS if isinstance(err, kind)), _DEFAULT_HINT)
    return WarehouseError(f"DuckDB: {err}", hint=hint, sql=sql, **context)


def _quoted(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect="duckdb")
