"""Embedded DuckDB: connecting from a profile target, loading seeds, running SQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

import duckdb
import pytest

from metricql.errors import MetricQLError, WarehouseError
from metricql.project.profile import ProfileTarget
from metricql.warehouse.base import Warehouse
from metricql.warehouse.duckdb import (
    DuckDBWarehouse,
    connect,
    execute,
    load_seeds,
    missing_tables,
)

AWKWARD_CSV = (
    "id,name,amount,ordered_on,ordered_at,paid\n"
    '1,"Smith, ""Bob""",1.5,2024-01-02,2024-01-02 03:04:05,true\n'
    "2,,2.25,2024-02-03,2024-02-03 00:00:00,false\n"
    '3,"",,,,\n'
    '4,"héllo ✓ 数据\nsecond line",3,2024-01-01,2024-01-01 10:00:00.5,true\n'
)


def _target(tmp_path: Path, **settings: object) -> ProfileTarget:
    return ProfileTarget(
        profile="p",
        target="dev",
        type="duckdb",
        settings=MappingProxyType(dict(settings)),
        base_dir=tmp_path,
    )


def _csv(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    yield connection
    connection.close()


# --- connect ---------------------------------------------------------------------------


def test_connect_creates_parent_folder(tmp_path: Path) -> None:
    target = _target(tmp_path, path="data/nested/shop.duckdb")
    connection = connect(target)
    try:
        assert execute(connection, "SELECT 41 + 1 AS answer") == (["answer"], [(42,)])
    finally:
        connection.close()
    assert (tmp_path / "data" / "nested" / "shop.duckdb").exists()


def test_connect_in_memory_by_default(tmp_path: Path) -> None:
    connection = connect(_target(tmp_path), read_only=True)  # read_only ignored in memory
    try:
        assert execute(connection, "SELECT current_database() AS db") == (["db"], [("memory",)])
    finally:
        connection.close()


def test_connect_read_only_missing_file_says_seed(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError) as info:
        connect(_target(tmp_path, path="missing.duckdb"), read_only=True)
    assert "does not exist" in str(info.value)
    assert "metricql seed" in (info.value.hint or "")
    assert not (tmp_path / "missing.duckdb").exists()


def test_connect_read_only_rejects_writes(tmp_path: Path) -> None:
    target = _target(tmp_path, path="shop.duckdb")
    connect(target).close()
    connection = connect(target, read_only=True)
    try:
        with pytest.raises(WarehouseError, match="read-only"):
            execute(connection, "CREATE TABLE t (a INTEGER)")
    finally:
        connection.close()


def test_connect_other_adapter_is_a_warehouse_error() -> None:
    target = ProfileTarget(profile="p", target="prod", type="postgres")
    with pytest.raises(WarehouseError, match="'postgres'") as info:
        connect(target)
    assert info.value.hint
    assert info.value.to_dict()["target"] == "prod"


def test_connect_unopenable_file_is_a_warehouse_error(tmp_path: Path) -> None:
    _csv(tmp_path, "not_a_db.duckdb", "this is not a database file\n" * 100)
    with pytest.raises(WarehouseError, match="cannot open DuckDB database") as info:
        connect(_target(tmp_path, path="not_a_db.duckdb"))
    assert info.value.hint


# --- load_seeds ------------------------------------------------------------------------


def test_seed_types_come_from_the_csv_sniffer(tmp_path: Path, con) -> None:
    path = _csv(tmp_path, "orders.csv", AWKWARD_CSV)
    assert load_seeds(con, [path], "main") == ["main.orders"]
    types = dict(
        con.execute("SELECT column_name, column_type FROM (DESCRIBE main.orders)").fetchall()
    )
    assert types == {
        "id": "BIGINT",
        "name": "VARCHAR",
        "amount": "DOUBLE",
        "ordered_on": "DATE",
        "ordered_at": "TIMESTAMP",
        "paid": "BOOLEAN",
    }


def test_seed_values_keep_quotes_unicode_and_nulls(tmp_path: Path, con) -> None:
    path = _csv(tmp_path, "orders.csv", AWKWARD_CSV)
    load_seeds(con, [path], None)
    columns, rows = execute(con, "SELECT * FROM orders ORDER BY id")
    assert columns == ["id", "name", "amount", "ordered_on", "ordered_at", "paid"]
    assert rows == [
        (1, 'Smith, "Bob"', 1.5, dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 3, 4, 5), True),
        (2, None, 2.25, dt.date(2024, 2, 3), dt.datetime(2024, 2, 3), False),
        # like `dbt seed`: an empty field, quoted or not, is NULL
        (3, None, None, None, None, None),
        (
            4,
            "héllo ✓ 数据\nsecond line",
            3.0,
            dt.date(2024, 1, 1),
            dt.datetime(2024, 1, 1, 10, 0, 0, 500000),
            True,
        ),
    ]


def test_seed_into_new_schema_and_replace_on_reload(tmp_path: Path, con) -> None:
    path = _csv(tmp_path, "customers.csv", "id,name\n1,Ann\n2,Bo\n")
    assert load_seeds(con, [path], "raw data") == ["raw data.customers"]
    path.write_text("id,name\n7,Cy\n", encoding="utf-8")
    load_seeds(con, [path], "raw data")
    assert execute(con, 'SELECT * FROM "raw data".customers') == (["id", "name"], [(7, "Cy")])


def test_seed_names_are_quoted_not_interpolated(tmp_path: Path, con) -> None:
    hostile = 'x"; DROP TABLE keep; --'
    con.execute("CREATE TABLE keep (a INTEGER)")
    path = _csv(tmp_path, f"{hostile}.csv", "a\n1\n")
    # the path is a bound parameter; the odd table and schema names are quoted identifiers
    assert load_seeds(con, [path], "we'ird") == [f"we'ird.{hostile}"]
    assert missing_tables(con, [(None, "keep"), ("we'ird", hostile)]) == []


def test_seed_several_files_returns_names_in_order(tmp_path: Path, con) -> None:
    paths = [_csv(tmp_path, f"{n}.csv", "a\n1\n") for n in ("b_table", "a_table")]
    assert load_seeds(con, paths, None) == ["b_table", "a_table"]


def test_seed_load_is_all_or_nothing(tmp_path: Path, con) -> None:
    good = _csv(tmp_path, "good.csv", "a\n1\n")
    with pytest.raises(WarehouseError) as info:
        load_seeds(con, [good, tmp_path / "absent.csv"], "main")
    assert info.value.context["file"] == str(tmp_path / "absent.csv")
    assert "read_csv" in (info.value.sql or "")
    assert missing_tables(con, [("main", "good")]) == [("main", "good")]


def test_seed_duplicate_stems_rejected(tmp_path: Path, con) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    paths = [_csv(tmp_path / d, "orders.csv", "a\n1\n") for d in ("a", "b")]
    with pytest.raises(WarehouseError, match="both load table 'orders'"):
        load_seeds(con, paths, None)


# --- missing_tables --------------------------------------------------------------------


def test_missing_tables(con) -> None:
    con.execute("CREATE SCHEMA staging")
    con.execute("CREATE TABLE main.orders (a INTEGER)")
    con.execute("CREATE TABLE staging.payments (a INTEGER)")
    con.execute("CREATE VIEW main.recent AS SELECT 1 AS a")
    names = [
        (None, "orders"),
        ("main", "ORDERS"),  # identifiers are case-insensitive in DuckDB
        ("main", "recent"),  # views count
        ("staging", "payments"),
        ("main", "payments"),
        (None, "customers"),
        (None, "customers"),
    ]
    assert missing_tables(con, names) == [("main", "payments"), (None, "customers")]
    assert missing_tables(con, []) == []


def test_missing_tables_schema_none_is_what_execute_sees(con) -> None:
    con.execute("CREATE SCHEMA staging")
    con.execute("CREATE TABLE staging.orders (a INTEGER)")
    # A session `SET schema` does not carry over to the fresh cursor each call uses, so
    # None means the default schema for both missing_tables and execute.
    con.execute("SET schema = 'staging'")
    assert missing_tables(con, [(None, "orders")]) == [(None, "orders")]
    with pytest.raises(WarehouseError):
        execute(con, "SELECT * FROM orders")
    con.execute("CREATE TABLE main.orders (a INTEGER)")
    assert missing_tables(con, [(None, "orders")]) == []


def test_missing_tables_name_is_a_value_not_sql(con) -> None:
    con.execute("CREATE TABLE orders (a INTEGER)")
    hostile = "x') OR true OR ('"
    assert missing_tables(con, [(None, hostile)]) == [(None, hostile)]


# --- execute ---------------------------------------------------------------------------


def test_execute_returns_columns_and_python_values(con) -> None:
    sql = """SELECT 1 AS "orders_count", 2.50::DECIMAL(10, 2) AS amount, NULL AS nothing,
             DATE '2024-03-01' AS "day", 'naïve' AS txt, true AS ok"""
    assert execute(con, sql) == (
        ["orders_count", "amount", "nothing", "day", "txt", "ok"],
        [(1, Decimal("2.50"), None, dt.date(2024, 3, 1), "naïve", True)],
    )


def test_execute_statement_without_result(con) -> None:
    columns, _ = execute(con, "CREATE TABLE t (a INTEGER)")
    assert missing_tables(con, [(None, "t")]) == []
    assert isinstance(columns, list)


@pytest.mark.parametrize(
    ("sql", "words", "hint"),
    [
        ("SELECT * FROM no_such_table", "no_such_table", "metricql seed"),
        ("SELECT no_such_column FROM (SELECT 1 AS a)", "no_such_column", "sql"),
        ("SELEC 1", "syntax", "report"),
        ("SELECT 'abc'::INTEGER", "abc", "convert"),
    ],
)
def test_execute_error_carries_sql_and_hint(con, sql: str, words: str, hint: str) -> None:
    with pytest.raises(WarehouseError) as info:
        execute(con, sql)
    err = info.value
    assert isinstance(err, MetricQLError)
    assert err.sql == sql
    assert words in err.message
    assert err.message.startswith("DuckDB: ")
    assert hint in (err.hint or "")
    assert err.to_dict()["sql"] == sql
    assert err.to_dict()["code"] == "warehouse_error"


def test_execute_uses_its_own_cursor(con) -> None:
    con.execute("CREATE TABLE t AS SELECT range AS n FROM range(3)")
    con.execute("SELECT 'left pending on the connection' AS x")
    assert execute(con, "SELECT count(*) AS n FROM t") == (["n"], [(3,)])
    assert con.fetchall() == [("left pending on the connection",)]


def test_duckdb_warehouse_is_a_warehouse(con) -> None:
    warehouse = DuckDBWarehouse(con)
    assert isinstance(warehouse, Warehouse)
    assert warehouse.dialect == "duckdb"
    assert warehouse.execute("SELECT 1 AS a") == (["a"], [(1,)])
    assert warehouse.missing_tables([(None, "nope")]) == [(None, "nope")]
