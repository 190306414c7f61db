"""Spark: a SparkSession (local, cluster or Spark Connect) as a Warehouse.

Results come through Spark's Arrow path (`DataFrame.toArrow()`, pyspark 4) when pyarrow is
installed, else `collect()`. A row cap becomes `DataFrame.limit(n)`, so Spark computes no more
rows than it returns. A timeout cancels only the statement's own jobs, and the session stays
usable: Spark Connect interrupts the operations tagged for it (`addTag`/`interruptTag`); a
classic session cancels the statement's job group, which the jobs of `toArrow()` do not carry
(they run on a serving thread of their own; seen with Spark 4), so a classic query with a
timeout is fetched through `collect()`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timezone
from typing import Any

from metricql.errors import WarehouseError
from metricql.project.profile import ProfileTarget
from metricql.warehouse.arrow import has_pyarrow
from metricql.warehouse.base import NO_LIMITS, Execution, Fetched, Row, Stream, TableName
from metricql.warehouse.timeouts import cancel_after

_TAGS = itertools.count()
_JOB_GROUP_PROPERTIES = (
    "spark.jobGroup.id",
    "spark.job.description",
    "spark.job.interruptOnCancel",
)
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
        classic = not type(self.session).__module__.startswith("pyspark.sql.connect")
        as_rows = not has_pyarrow() or (execution.timeout is not None and classic)
        cancellable = self._job_group if classic else self._tagged
        with cancellable(execution.timeout, sql), self._errors(sql):
            frame = self.session.sql(sql)
            if execution.max_rows is not None:
                frame = frame.limit(execution.max_rows)
            columns = tuple(frame.columns)
            if as_rows:
                return Fetched(columns, rows=_collected(frame))
            return Fetched(columns, table=frame.toArrow())

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
    def _job_group(self, timeout: float | None, sql: str) -> Iterator[None]:
        """A classic session: this thread's jobs in a group of their own, cancelled on timeout."""
        if timeout is None:
            yield
            return
        group = f"metricql-{next(_TAGS)}"
        context = self.session.sparkContext
        context.setJobGroup(group, "metricql query", interruptOnCancel=True)
        try:
            with cancel_after(timeout, lambda: context.cancelJobGroup(group), sql):
                yield
        finally:
            for key in (
                "spark.jobGroup.id",
                "spark.job.description",
                "spark.job.interruptOnCancel",
            ):
                context.setLocalProperty(key, None)

    @contextmanager
    def _tagged(self, timeout: float | None, sql: str) -> Iterator[None]:
        """Spark Connect: tag this thread's operations so a timeout interrupts exactly them."""
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


def _collected(frame: Any) -> list[Row]:
    """`collect()` rows; zoned timestamps (naive in the process's zone) made aware, as Arrow
    gives them, so both paths give the same instants."""
    zoned = [f.dataType.typeName() == "timestamp" for f in frame.schema.fields]
    return [
        tuple(v.astimezone(timezone.utc) if z and v is not None else v
              for v, z in zip(row, zoned, strict=True))
        for row in frame.collect()
    ]  # fmt: skip
