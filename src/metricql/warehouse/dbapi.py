"""Run compiled SQL on any DB-API 2.0 connection (psycopg, snowflake-connector, …).

Rows come as Arrow when the cursor offers it (ADBC `fetch_record_batch`, Snowflake
`fetch_arrow_batches`, Databricks `fetchmany_arrow`, PyAthena's `as_arrow`), else through
`fetchmany`. A row cap stops fetching once reached. A timeout cancels the statement through
the first of `cursor.cancel()`, `connection.cancel_safe()`, `connection.cancel()` the driver
has, or through the `SET` statements of a `Driver` that names them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from metricql.errors import WarehouseError
from metricql.warehouse.arrow import (
    arrow_conversions,
    capped_batches,
    capped_rows,
    has_pyarrow,
)
from metricql.warehouse.base import NO_LIMITS, Execution, Fetched, Row, Stream, TableName
from metricql.warehouse.pool import ConnectionPool, usable
from metricql.warehouse.secrets import redact
from metricql.warehouse.timeouts import cancel_after

_BATCH_ROWS = 10_000
_HINT = "check the SQL against the warehouse; the dialect must match the connection"


def _until_empty(fetch: Callable[[], Any]) -> Iterator[Any]:
    while (batch := fetch()) is not None and batch.num_rows:
        yield batch


# Cursor method → its Arrow batches (Tables or RecordBatches), first match wins.
_ARROW_BATCHES: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("fetch_record_batch", lambda cursor: cursor.fetch_record_batch()),  # ADBC
    ("fetch_arrow_batches", lambda cursor: cursor.fetch_arrow_batches()),  # Snowflake
    ("fetchmany_arrow", lambda cursor: _until_empty(lambda: cursor.fetchmany_arrow(_BATCH_ROWS))),
    ("as_arrow", lambda cursor: iter([cursor.as_arrow()])),  # PyAthena's ArrowCursor
)
# Where a statement can be stopped from another thread: (on the cursor?, method name).
_CANCELS = ((True, "cancel"), (False, "cancel_safe"), (False, "cancel"), (False, "interrupt"))


@dataclass(frozen=True, slots=True)
class Driver:
    """How one driver differs when running statements; the defaults suit most drivers.

    `cancels`: the driver can stop a running statement from another thread (see _CANCELS).
    `timeout_sql(seconds)`: statements to run before and after a statement with a timeout,
    setting a server-side limit (for drivers that cannot cancel, or as a second guard).
    """

    cancels: bool = True
    timeout_sql: Callable[[float], tuple[str, str]] | None = None


GENERIC = Driver()


def is_duckdb(connection: Any) -> bool:
    """True for a DuckDB connection (handled by warehouse.duckdb)."""
    return type(connection).__module__.split(".")[0] in ("duckdb", "_duckdb")


class _Borrowed:
    """The caller's own connection, lent as is (never closed here)."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def acquire(self) -> Any:
        return self._connection

    def release(self, connection: Any, *, healthy: bool = True) -> None:
        """Nothing to give back: the caller owns the connection."""

    def close(self) -> None:
        """The caller closes its own connection."""


class DBAPIWarehouse:
    """DB-API connections (the caller's one, or a pool opened from a profile) as a Warehouse."""

    def __init__(
        self,
        connections: ConnectionPool | Any,
        dialect: str,
        *,
        driver: Driver = GENERIC,
        secrets: tuple[str, ...] = (),
    ) -> None:
        pooled = isinstance(connections, ConnectionPool)
        self._connections = connections if pooled else _Borrowed(connections)
        self.dialect = dialect
        self._driver = driver
        self._secrets = secrets

    def execute(self, sql: str) -> tuple[list[str], list[Row]]:
        """Run one statement; return its column names and rows."""
        fetched = self._read(sql, NO_LIMITS, arrow=False)
        return list(fetched.columns), list(fetched.rows or [])

    def fetch(self, sql: str, execution: Execution = NO_LIMITS) -> Fetched:
        """Run one query; Arrow when the cursor offers it, else rows."""
        return self._read(sql, execution, arrow=has_pyarrow())

    def stream(self, sql: str, execution: Execution = NO_LIMITS) -> Stream:
        """Run one query; its connection stays lent out until the stream is read or closed.

        The timeout bounds running the statement; the reader sets the pace of fetching.
        """
        connection = self._connections.acquire()
        cursor = None
        try:
            cursor = self._cursor(connection)
            with self._limits(connection, cursor, sql, execution.timeout):
                cursor.execute(sql)
            columns = _columns(cursor)
            arrow = _arrow_batches(cursor) if has_pyarrow() and columns else None
        except BaseException as err:
            _close(cursor)
            self._connections.release(connection, healthy=usable(connection))
            raise self._mapped(err, sql) from err
        chunks: Iterator[Any]
        python: dict[str, str] = {}
        if arrow is not None:
            chunks = (
                b for c in capped_batches(arrow, execution.max_rows) for b in _record_batches(c)
            )
            schema = getattr(arrow, "schema", None)  # ADBC's reader knows it before reading
            python = arrow_conversions(schema) if schema is not None else {}
        else:
            chunks = capped_rows(cursor.fetchmany, execution.max_rows, _BATCH_ROWS)

        def close() -> None:
            _close(cursor)
            self._connections.release(connection)

        return Stream(columns, self._guarded(chunks, sql), close, python)

    def missing_tables(self, names: Sequence[TableName]) -> list[TableName]:
        """Those of `names` that a `SELECT … WHERE 1 = 0` cannot read."""
        from metricql.warehouse.relations import unreadable_tables

        return unreadable_tables(self, names)

    def close(self) -> None:
        """Close the pool's connections (a caller's own connection is left open)."""
        self._connections.close()

    def _read(self, sql: str, execution: Execution, *, arrow: bool) -> Fetched:
        connection = self._connections.acquire()
        healthy, cursor = True, None
        try:
            cursor = self._cursor(connection)
            with self._limits(connection, cursor, sql, execution.timeout):
                cursor.execute(sql)
                return _fetched(cursor, execution.max_rows, arrow=arrow)
        except BaseException as err:
            _close(cursor)
            cursor = None
            healthy = usable(connection)
            raise self._mapped(err, sql) from err
        finally:
            _close(cursor)
            self._connections.release(connection, healthy=healthy)

    def _cursor(self, connection: Any) -> Any:
        if not hasattr(connection, "cursor"):
            raise WarehouseError(
                f"{type(connection).__name__} is not a DB-API connection (it has no cursor())",
                hint="pass a DuckDB connection, a SparkSession or a DB-API 2.0 connection "
                "such as psycopg's",
            )
        return connection.cursor()

    @contextmanager
    def _limits(
        self, connection: Any, cursor: Any, sql: str, timeout: float | None
    ) -> Iterator[None]:
        """The timeout around the block: server-side statements and/or a cancel timer."""
        driver = self._driver
        statements = driver.timeout_sql(timeout) if timeout and driver.timeout_sql else None
        if statements:
            cursor.execute(statements[0])
        cancel = _canceller(connection, cursor) if driver.cancels else _no_cancel
        with cancel_after(timeout, cancel, sql):
            yield
        if statements:  # after an error the pool drops the connection, setting and all
            cursor.execute(statements[1])

    def _guarded(self, chunks: Iterator[Any], sql: str) -> Iterator[Any]:
        try:
            yield from chunks
        except Exception as err:  # errors can surface while fetching, too
            raise self._mapped(err, sql) from err

    def _mapped(self, err: BaseException, sql: str) -> BaseException:
        """A driver error as WarehouseError (secrets masked); ours and interrupts as they are."""
        if isinstance(err, WarehouseError) or not isinstance(err, Exception):
            return err
        message = redact(str(err).strip(), self._secrets)
        return WarehouseError(
            f"{type(err).__module__.split('.')[0]}: {message}", hint=_HINT, sql=sql
        )


def _fetched(cursor: Any, max_rows: int | None, *, arrow: bool) -> Fetched:
    columns = _columns(cursor)
    if not columns:  # a statement without a result set
        return Fetched((), rows=[])
    batches = _arrow_batches(cursor) if arrow else None
    if batches is not None:
        import pyarrow

        chunks = [b for c in capped_batches(batches, max_rows) for b in _record_batches(c)]
        schema = getattr(batches, "schema", None)  # ADBC's reader has one even for no rows
        if chunks or schema is not None:
            table = pyarrow.Table.from_batches(chunks, schema)
            return Fetched(columns, table=table, python=arrow_conversions(table.schema))
        return Fetched(columns, rows=[])
    rows = [row for chunk in capped_rows(cursor.fetchmany, max_rows, _BATCH_ROWS) for row in chunk]
    return Fetched(columns, rows=rows)


def _columns(cursor: Any) -> tuple[str, ...]:
    return tuple(str(d[0]) for d in cursor.description or ())


def _arrow_batches(cursor: Any) -> Any:
    for method, batches in _ARROW_BATCHES:
        if callable(getattr(cursor, method, None)):
            return batches(cursor)
    return None


def _record_batches(chunk: Any) -> list[Any]:
    to_batches = getattr(chunk, "to_batches", None)  # a Table (Snowflake, Databricks)
    return list(to_batches()) if callable(to_batches) else [chunk]


def _canceller(connection: Any, cursor: Any) -> Callable[[], Any]:
    for on_cursor, name in _CANCELS:
        method = getattr(cursor if on_cursor else connection, name, None)
        if callable(method):
            return method  # type: ignore[no-any-return]
    return _no_cancel


def _no_cancel() -> None:
    """Nothing can stop the statement from outside: the timeout only reports it."""


def _close(cursor: Any) -> None:
    close = getattr(cursor, "close", None)
    if callable(close):
        close()


def execute(connection: Any, sql: str) -> tuple[list[str], list[Row]]:
    """Execute one statement on the caller's connection; errors become WarehouseError."""
    return DBAPIWarehouse(connection, "").execute(sql)
