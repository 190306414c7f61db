"""Spark: a SparkSession (local, cluster or Spark Connect) as a Warehouse.

Results come through Spark's Arrow path (`DataFrame.toArrow()`, pyspark 4) when pyarrow is
installed, else `collect()`. A row cap becomes `DataFrame.limit(n)`, so Spark computes no more
rows than it returns. A timeout tags the statement's jobs (`addTag`) and interrupts them
(`interruptTag`); the session stays usable.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from metricql.errors import WarehouseError
from metricql.project.profile import ProfileTarget
from metricql.warehouse.arrow import has_pyarrow
from metricql.warehouse.base import NO_LIMITS, Execution, Fetched, Row, Stream, TableName
from metricql.warehouse.timeouts import cancel_after

_TAGS = itertools.count()
_HINT = "check the SQL against the Spark catalog (tables, columns, functions)"


def is_spark_session(connection: Any) -> bool:
    """True for a pyspark SparkSession, classic or Spark Connect."""
    kind = type(connection)
    return kind.__name__ == "SparkSession" and kind.__module__.startswith("pyspark.sql")


class SparkWarehouse:
    """A SparkSession as a Warehouse; `owned`: close() stops the session."""

    def __init__(self, session: Any, *, dialect: str = "spark", owned: bool = False) -> None:
        self.session = session
        self.dialect = dialect
        self._owned = owned
        self._lock = threading.Lock()

    def execute(self, sql: str) -> tuple[list[str], list[Row]]:
        """Run one statement; return its column names and rows."""
        with self._errors(sql):
            frame = self.session.sql(sql)
            rows = [tuple(row) for row in frame.collect()]
        return list(frame.columns), rows

    def fetch(self, sql: str, execution: Execution = NO_LIMITS) -> Fetched:
        """Run one query; an Arrow table (through toArrow) when pyarrow is installed."""
        with self._tagged(execution.timeout, sql), self._errors(sql):
            frame = self.session.sql(sql)
            if execution.max_rows is not None:
                frame = frame.limit(execution.max_rows)
            columns = tuple(frame.columns)
            if has_pyarrow():
                return Fetched(columns, table=frame.toArrow())
            return Fetched(columns, rows=[tuple(row) for row in frame.collect()])

    def stream(self, sql: str, execution: Execution = NO_LIMITS) -> Stream:
        """The fetched result in chunks (Spark hands a query's rows to Python all at once)."""
        fetched = self.fetch(sql, execution)
        chunks: Iterator[Any]
        if fetched.table is not None:
            chunks = iter(fetched.table.to_batches())
        else:
            chunks = iter([list(fetched.rows or [])])
        return Stream(fetched.columns, chunks)

    def missing_tables(self, names: Sequence[TableName]) -> list[TableName]:
        """Those of `names` Spark cannot read."""
        from metricql.warehouse.relations import unreadable_tables

        return unreadable_tables(self, names)

    def close(self) -> None:
        """Stop the session if this warehouse started it."""
        with self._lock:
            owned, self._owned = self._owned, False
        if owned:
            self.session.stop()

    @contextmanager
    def _tagged(self, timeout: float | None, sql: str) -> Iterator[None]:
        """Tag this thread's jobs so a timeout interrupts exactly them."""
        if timeout is None:
            yield
            return
        tag = f"metricql-{next(_TAGS)}"
        self.session.addTag(tag)
        try:
            with cancel_after(timeout, lambda: self.session.interruptTag(tag), sql):
                yield
        finally:
            self.session.removeTag(tag)

    @contextmanager
    def _errors(self, sql: str) -> Iterator[None]:
        try:
            yield
        except WarehouseError:
            raise
        except Exception as err:  # pyspark's errors (Analysis, Parse, Spark…) share no base
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise WarehouseError(f"Spark: {first}", hint=_HINT, sql=sql) from err


def session_warehouse(target: ProfileTarget) -> SparkWarehouse:
    """dbt-spark's `method: session`: the process's SparkSession (created with Hive support if
    none runs yet, as dbt-spark does); `host: sc://…` opens a Spark Connect session instead.

    `server_side_parameters` become session settings. A session metricql started is stopped
    by `close()`; one that was already running is left alone.
    """
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    settings = target.settings
    builder = SparkSession.builder
    for key, value in dict(settings.get("server_side_parameters") or {}).items():
        builder = builder.config(str(key), str(value))
    host = str(settings.get("host") or "")
    if host.startswith("sc://"):
        return SparkWarehouse(builder.remote(host).create(), dialect=target.dialect, owned=True)
    running = SparkContext._active_spark_context is not None
    session = builder.enableHiveSupport().getOrCreate()
    return SparkWarehouse(session, dialect=target.dialect, owned=not running)
