"""Running statements: the connection pool, DB-API cursors (Arrow or rows, row caps,
timeouts), DuckDB timeouts, relation checks and secret masking — without a server."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import metricql as mq
from metricql.warehouse.base import Execution, Warehouse
from metricql.warehouse.connection import warehouse_for
from metricql.warehouse.dbapi import DBAPIWarehouse, Driver
from metricql.warehouse.duckdb import DuckDBWarehouse
from metricql.warehouse.pool import ConnectionPool
from metricql.warehouse.relations import missing_relations, relation_checks
from metricql.warehouse.secrets import redact, secret_values
from metricql.warehouse.spark import SparkWarehouse, is_spark_session
from metricql.warehouse.timeouts import cancel_after

SLOW_DUCKDB = "SELECT SUM(hash(a.range * b.range)) AS s FROM range(200000) a, range(200000) b"


class FakeCursor:
    """A DB-API cursor over fixed rows; `execute` can hang until cancel() or fail."""

    def __init__(self, connection: FakeConnection) -> None:
        self.connection = connection
        self.description: list[tuple[str, ...]] | None = None
        self.asked: list[int] = []
        self._rows: list[tuple[Any, ...]] = []
        self.cancelled = threading.Event()

    def execute(self, sql: str) -> None:
        self.connection.statements.append(sql)
        if self.connection.hang and not sql.startswith("SET"):
            if not self.cancelled.wait(10):
                raise AssertionError("never cancelled")
            raise RuntimeError("canceling statement due to user request")
        if self.connection.failure is not None:
            raise self.connection.failure
        self.description = [("a",), ("b",)]
        self._rows = list(self.connection.rows)

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        self.asked.append(size)
        out, self._rows = self._rows[:size], self._rows[size:]
        return out

    def cancel(self) -> None:
        self.cancelled.set()

    def close(self) -> None:
        self.connection.closed_cursors += 1


class FakeConnection:
    def __init__(self, rows: list[tuple[Any, ...]] | None = None) -> None:
        self.rows = rows or [(i, f"r{i}") for i in range(25)]
        self.statements: list[str] = []
        self.hang = False
        self.failure: Exception | None = None
        self.closed = False
        self.closed_cursors = 0
        self.cursors: list[FakeCursor] = []

    def cursor(self) -> FakeCursor:
        self.cursors.append(FakeCursor(self))
        return self.cursors[-1]

    def rollback(self) -> None:
        if self.closed:
            raise RuntimeError("connection closed")

    def close(self) -> None:
        self.closed = True


# --- pool -----------------------------------------------------------------------------


def test_pool_opens_lazily_and_never_more_than_its_size() -> None:
    opened: list[FakeConnection] = []
    lock = threading.Lock()

    def open_one() -> FakeConnection:
        made = FakeConnection()
        with lock:
            opened.append(made)
        time.sleep(0.01)  # connecting takes a while: other threads must wait, not open more
        return made

    pool = ConnectionPool(open_one, size=3)
    assert opened == []
    busy = threading.Barrier(8)
    in_use: list[int] = []
    peak = [0]

    def work() -> None:
        busy.wait()
        for _ in range(20):
            with pool.connection():
                with lock:
                    in_use.append(1)
                    peak[0] = max(peak[0], len(in_use))
                time.sleep(0.001)
                with lock:
                    in_use.pop()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(opened) == 3 and peak[0] == 3
    pool.close()
    assert all(c.closed for c in opened)
    with pytest.raises(mq.WarehouseError, match="closed"):
        pool.acquire()


def test_pool_drops_a_connection_a_failure_broke() -> None:
    made: list[FakeConnection] = []
    pool = ConnectionPool(lambda: made.append(FakeConnection()) or made[-1], size=1)
    with pytest.raises(RuntimeError), pool.connection() as first:
        first.closed = True  # the server went away mid-statement
        raise RuntimeError("lost")
    with pool.connection() as second:
        assert second is not first
    with pytest.raises(RuntimeError), pool.connection() as third:
        raise RuntimeError("a bad statement; the connection is fine")
    with pool.connection() as fourth:
        assert fourth is third and len(made) == 2


# --- DB-API cursors -------------------------------------------------------------------


def test_rows_fetched_in_chunks_and_capped_without_fetching_more() -> None:
    connection = FakeConnection()
    warehouse = DBAPIWarehouse(connection, "postgres")
    fetched = warehouse.fetch("SELECT a, b FROM t", Execution(max_rows=7))
    assert fetched.columns == ("a", "b") and fetched.table is None
    assert fetched.rows == [(i, f"r{i}") for i in range(7)]
    assert connection.cursors[-1].asked == [7]  # asked for 7 rows, never more
    assert warehouse.fetch("SELECT a, b FROM t").rows == connection.rows


def test_arrow_batches_of_a_snowflake_like_cursor_are_used_and_capped() -> None:
    class ArrowCursor(FakeCursor):
        def fetch_arrow_batches(self) -> Iterator[Any]:
            for start in (0, 10, 20):
                self.asked.append(start)
                yield pa.table({"a": list(range(start, start + 10)), "b": ["x"] * 10})

    connection = FakeConnection()
    connection.cursor = lambda: (
        connection.cursors.append(ArrowCursor(connection)) or connection.cursors[-1]
    )  # type: ignore[method-assign]
    fetched = DBAPIWarehouse(connection, "snowflake").fetch("SELECT a, b", Execution(max_rows=15))
    assert fetched.table.column("a").to_pylist() == list(range(15))
    assert connection.cursors[-1].asked == [0, 10]  # the third batch was never read


def test_timeout_cancels_through_the_cursor_and_the_connection_is_reused() -> None:
    connection = FakeConnection()
    warehouse = DBAPIWarehouse(ConnectionPool(lambda: connection, size=1), "trino")
    connection.hang = True
    start = time.perf_counter()
    with pytest.raises(mq.QueryTimeoutError) as info:
        warehouse.fetch("SELECT slow", Execution(timeout=0.3))
    assert time.perf_counter() - start < 0.6
    assert info.value.sql == "SELECT slow" and info.value.to_dict()["code"] == "query_timeout"
    connection.hang = False
    assert warehouse.fetch("SELECT a, b").rows == connection.rows
    assert connection.closed_cursors == len(connection.cursors)  # every cursor closed


def test_server_side_timeout_statements_wrap_the_query() -> None:
    connection = FakeConnection()
    driver = Driver(cancels=False, timeout_sql=lambda s: (f"SET t = {s:g}", "SET t = 0"))
    warehouse = DBAPIWarehouse(connection, "redshift", driver=driver)
    warehouse.fetch("SELECT a, b", Execution(timeout=2.5))
    warehouse.fetch("SELECT a, b")
    assert connection.statements == ["SET t = 2.5", "SELECT a, b", "SET t = 0", "SELECT a, b"]


def test_driver_errors_become_warehouse_errors_with_secrets_masked() -> None:
    connection = FakeConnection()
    connection.failure = RuntimeError("bad thing for password=abc123xyz at 'db'")
    warehouse = DBAPIWarehouse(connection, "postgres", secrets=("db-secret",))
    with pytest.raises(mq.WarehouseError) as info:
        warehouse.fetch("SELECT 1")
    assert "abc123xyz" not in str(info.value) and "password=***" in str(info.value)
    assert info.value.sql == "SELECT 1"


def test_not_a_connection_is_a_warehouse_error() -> None:
    with pytest.raises(mq.WarehouseError, match="not a DB-API connection"):
        warehouse_for(object(), "postgres").fetch("SELECT 1")


def test_stream_holds_the_pooled_connection_until_closed() -> None:
    connection = FakeConnection()
    pool = ConnectionPool(lambda: connection, size=1)
    warehouse = DBAPIWarehouse(pool, "postgres")
    stream = warehouse.stream("SELECT a, b", Execution(max_rows=12))
    assert pool._idle == []  # lent out while the stream is open
    assert sum(len(chunk) for chunk in stream) == 12  # read to the end: closed, given back
    assert pool._idle == [connection]


# --- DuckDB, relations, dispatch ------------------------------------------------------


def test_duckdb_timeout_interrupts_and_the_connection_stays_usable() -> None:
    connection = duckdb.connect()
    start = time.perf_counter()
    with pytest.raises(mq.QueryTimeoutError):
        DuckDBWarehouse(connection).fetch(SLOW_DUCKDB, Execution(timeout=0.5))
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"{elapsed:.2f} s for a 0.5 s timeout"
    assert DuckDBWarehouse(connection).execute("SELECT 42 AS x") == (["x"], [(42,)])


def test_relation_checks_one_line_per_relation(project: mq.Project, duck: Any) -> None:
    warehouse = warehouse_for(duck, "duckdb")
    checks = relation_checks(warehouse, project.explores.values())
    assert {c.relation for c in checks} == {
        '"main"."orders"', '"main"."customers"', '"main"."payments"', '"main"."order_items"'
    }  # fmt: skip
    assert all(c.ok for c in checks)
    assert "orders.customers" in next(c for c in checks if "customers" in c.relation).used_by
    assert missing_relations(warehouse, project.explores.values()) == []
    empty = warehouse_for(duckdb.connect(), "duckdb")
    missing = missing_relations(empty, project.explores.values())
    assert len(missing) == 4 and all("does not exist" in c.problem for c in missing)


def test_warehouse_for_dispatches_on_the_connection(duck: Any) -> None:
    assert isinstance(warehouse_for(duck, "postgres"), DuckDBWarehouse)
    assert warehouse_for(duck, "postgres").dialect == "duckdb"
    assert isinstance(warehouse_for(FakeConnection(), "trino"), DBAPIWarehouse)
    own = DuckDBWarehouse(duck)
    assert warehouse_for(own, "spark") is own and isinstance(own, Warehouse)


def test_spark_sessions_are_recognised_by_their_class() -> None:
    classic = type("SparkSession", (), {"__module__": "pyspark.sql.session"})()
    connect = type("SparkSession", (), {"__module__": "pyspark.sql.connect.session"})()
    other = type("SparkSession", (), {"__module__": "mything"})()
    assert is_spark_session(classic) and is_spark_session(connect)
    assert not is_spark_session(other)
    assert isinstance(warehouse_for(connect, "databricks"), SparkWarehouse)
    assert warehouse_for(connect, "databricks").dialect == "databricks"
    assert warehouse_for(connect, "postgres").dialect == "spark"


# --- timeouts and secrets -------------------------------------------------------------


def test_cancel_after_reports_a_late_finish_and_a_failed_cancel() -> None:
    def refuse() -> None:
        raise RuntimeError("cannot cancel")

    with pytest.raises(mq.QueryTimeoutError, match="cannot cancel"), cancel_after(0.05, refuse):
        time.sleep(0.2)
    with cancel_after(5, refuse):  # finished in time: nothing raised, nothing cancelled
        pass


def test_redact_masks_values_and_credential_shapes() -> None:
    settings = {"password": "p4ss-word", "keyfile_json": {"private_key": "-----KEY-----"},
                "user": "ana", "token": "ab"}  # fmt: skip
    secrets = secret_values(settings)
    assert secrets == ("-----KEY-----", "p4ss-word")  # 'ab': too short to mask safely
    text = "login p4ss-word; key -----KEY-----; password='x y'; postgres://ana:s3cr3t@h/db"
    assert redact(text, secrets) == "login ***; key ***; password=***; postgres://***@h/db"


def test_a_stream_dropped_unread_gives_its_connection_back() -> None:
    from sqlglot import exp

    from metricql.compiler.compiled import CompiledField, CompiledQuery
    from metricql.semantic.fields import FieldKind

    fields = tuple(CompiledField(c, c, "string", FieldKind.DIMENSION) for c in ("a", "b"))
    compiled = CompiledQuery("SELECT a, b", "postgres", fields, "t", exp.select("1"))
    connection = FakeConnection()
    pool = ConnectionPool(lambda: connection, size=1)
    result = mq.QueryResult.from_stream(compiled, DBAPIWarehouse(pool, "postgres").stream("x"))
    assert pool._idle == []
    del result
    gc.collect()
    assert pool._idle == [connection]  # the next caller is not stuck waiting for it
