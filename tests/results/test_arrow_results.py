"""Arrow-native results: the same Python values as DuckDB's fetchall(), lazy dict rows,
zero-copy to_arrow(), pandas/polars, streaming batches and CSV, row caps."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from sqlglot import exp

import metricql as mq
from metricql.compiler.compiled import CompiledField, CompiledQuery
from metricql.errors import MissingDependencyError, ResultConsumedError
from metricql.results import result as result_module
from metricql.results.formatting import format_csv
from metricql.semantic.fields import FieldKind
from metricql.warehouse import duckdb as duckwh
from metricql.warehouse.arrow import capped_batches, capped_rows
from metricql.warehouse.base import Execution, Stream
from tests.conftest import assert_same_rows
from tests.engines.compare import compare, rows_of, sort_keys
from tests.engines.queries import NOW, QUERIES

# DuckDB expressions whose Arrow form differs from fetchall()'s Python value, and plain ones.
EXPRESSIONS = {
    "hugeint_sum": "SUM(x)",
    "uhugeint": "1::UHUGEINT",
    "int": "x::INTEGER",
    "decimal": "1.50::DECIMAL(10, 2)",
    "double_nan": "'nan'::DOUBLE",
    "date": "DATE '2024-01-02'",
    "date_infinity": "'infinity'::DATE",
    "date_minus_infinity": "'-infinity'::DATE",
    "timestamp": "TIMESTAMP '2024-01-02 03:04:05.123456'",
    "timestamp_infinity": "'infinity'::TIMESTAMP",
    "timestamptz": "TIMESTAMPTZ '2024-01-02 03:04:05+00'",
    "timestamp_ns": "'2024-01-02 03:04:05.123456789'::TIMESTAMP_NS",
    "timestamp_ms": "'2024-01-02 03:04:05.123'::TIMESTAMP_MS",
    "time": "TIME '03:04:05'",
    "timetz": "TIMETZ '03:04:05+01'",
    "interval": "INTERVAL '14 months 2 days 3 seconds 5 microseconds'",
    "uuid": "'c982a589-89f4-469f-a446-853fc9fad952'::UUID",
    "blob": "'ab'::BLOB",
    "list": "[1, 2]",
    "list_of_uuid": "['c982a589-89f4-469f-a446-853fc9fad952'::UUID]",
    "struct": "{'a': 1, 'b': 'x'}",
    "struct_of_hugeint": "{'a': SUM(x)}",
    "map": "MAP {'k': [1]}",
    "enum": "'a'::ENUM('a', 'b')",
    "bit": "'101'::BIT",
    "json": "'{\"a\": 1}'::JSON",
    "null": "NULL",
    "bool": "true",
}


def _compiled(columns: list[str], sql: str) -> CompiledQuery:
    fields = tuple(CompiledField(c, c, "string", FieldKind.DIMENSION) for c in columns)
    return CompiledQuery(
        sql=sql, dialect="duckdb", fields=fields, explore="x", tree=exp.select("1")
    )


def _typed(rows: list[dict[str, Any]] | list[tuple[Any, ...]]) -> list[str]:
    """Each row's values with their types, NaN included, sorted: equal lists mean the same
    Python values (rows in any order: unsorted queries come in any order)."""
    return sorted(
        repr([(type(v).__name__, v) for v in (r.values() if isinstance(r, dict) else r)])
        for r in rows
    )


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
def test_arrow_values_equal_fetchall_values(name: str) -> None:
    sql = f"SELECT {EXPRESSIONS[name]} AS v FROM (SELECT 1::BIGINT AS x) GROUP BY ALL"
    sql = sql if "SUM(" in sql else sql.replace(" GROUP BY ALL", "")
    con = duckdb.connect()
    want = con.execute(sql).fetchall()
    fetched = duckwh.fetch(con, sql)
    got = mq.QueryResult.from_fetched(_compiled(["v"], sql), fetched).rows
    assert _typed(got) == _typed(want)


def test_plain_types_come_as_arrow_and_awkward_ones_as_rows() -> None:
    con = duckdb.connect()
    assert duckwh.fetch(con, "SELECT 1 AS a, 'x' AS b, SUM(2) AS c").table is not None
    assert duckwh.fetch(con, "SELECT '101'::BIT AS a").table is None  # Arrow would lose it
    assert duckwh.fetch(con, "SELECT MAP {'k': 1} AS a").rows == [({"k": 1},)]


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_every_engine_query_same_rows_with_and_without_arrow(
    project: mq.Project, duck: duckdb.DuckDBPyConnection, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrow = project.run(QUERIES[name], connection=duck, now=NOW)
    monkeypatch.setattr(duckwh, "has_pyarrow", lambda: False)
    rows = project.run(QUERIES[name], connection=duck, now=NOW)
    assert arrow._table is not None and rows._table is None  # both paths really ran
    if _typed(arrow.rows) != _typed(rows.rows):
        # Two executions may order ties differently, and LIMIT may cut a tie group at another
        # row: then the sort keys must agree row by row and the rest as multisets (with types).
        compiled = project.compile(QUERIES[name], now=NOW)
        columns = compiled.field_ids
        problem = compare(rows_of(arrow.rows, columns), rows_of(rows.rows, columns), columns,
                          sort_keys(compiled.tree), QUERIES[name].limit)  # fmt: skip
        assert problem is None, problem


@pytest.fixture
def big(
    duck: duckdb.DuckDBPyConnection,
) -> Iterator[tuple[CompiledQuery, duckdb.DuckDBPyConnection]]:
    sql = "SELECT range AS n, range % 7 AS k, 'r' || range AS s FROM range(300000)"
    yield _compiled(["n", "k", "s"], sql), duck


def test_rows_are_made_only_when_asked_for(
    big: tuple[CompiledQuery, duckdb.DuckDBPyConnection], monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled, con = big
    calls: list[int] = []
    real = result_module.python_columns
    monkeypatch.setattr(result_module, "python_columns", lambda *a: calls.append(1) or real(*a))
    result = mq.QueryResult.from_fetched(compiled, duckwh.fetch(con, compiled.sql))
    assert len(result) == 300_000 and result.to_arrow().num_rows == 300_000
    assert calls == []  # counting and Arrow need no Python rows
    assert result.rows[299_999] == {"n": 299_999, "k": 299_999 % 7, "s": "r299999"}
    assert result.rows is result.rows and calls == [1]  # made once, then kept


def test_to_arrow_shares_the_fetched_buffers(big: tuple[CompiledQuery, Any]) -> None:
    compiled, con = big
    fetched = duckwh.fetch(con, compiled.sql)
    table = mq.QueryResult.from_fetched(compiled, fetched).to_arrow()
    assert table.column_names == ["n", "k", "s"]
    for i in range(3):
        for mine, theirs in zip(
            table.column(i).chunks, fetched.table.column(i).chunks, strict=True
        ):
            assert [b.address for b in mine.buffers() if b] == [
                b.address for b in theirs.buffers() if b
            ]
    assert table.schema.field("n").metadata[b"kind"] == b"dimension"


def test_project_run_columns_are_field_ids_with_metadata(project: mq.Project, duck: Any) -> None:
    query = mq.MetricQuery(
        explore_name="orders",
        dimensions=["orders_status"],
        metrics=["orders_total_revenue"],
        sorts=[{"fieldId": "orders_status"}],
    )
    result = project.run(query, connection=duck)
    table = result.to_arrow()
    assert table.column_names == ["orders_status", "orders_total_revenue"]
    assert table.to_pylist() == result.rows
    want = duck.execute(
        "SELECT status, SUM(amount) FROM main.orders GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert_same_rows(result.rows, want, result.columns, ordered=True)


def test_to_pandas_and_to_polars(project: mq.Project, duck: Any) -> None:
    query = mq.MetricQuery(explore_name="orders", dimensions=["orders_status"],
                           metrics=["orders_order_count"])  # fmt: skip
    result = project.run(query, connection=duck)
    frame = result.to_pandas()
    assert list(frame.columns) == ["orders_status", "orders_order_count"]
    assert frame.astype(object).where(frame.notna(), None).to_dict("records") == result.rows
    polars_frame = result.to_polars()
    assert polars_frame.columns == ["orders_status", "orders_order_count"]
    assert polars_frame.to_dicts() == result.rows


@pytest.mark.parametrize(("method", "module"), [("to_pandas", "pandas"), ("to_polars", "polars")])
def test_missing_dataframe_library_names_the_extra(
    project: mq.Project, duck: Any, method: str, module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = project.run(mq.MetricQuery(explore_name="orders", metrics=["orders_order_count"]),
                         connection=duck)  # fmt: skip
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingDependencyError) as info:
        getattr(result, method)()
    assert info.value.hint == f"pip install metricql[{module}]"


def test_stream_batches_equal_the_fetched_table(big: tuple[CompiledQuery, Any]) -> None:
    compiled, con = big
    whole = mq.QueryResult.from_fetched(compiled, duckwh.fetch(con, compiled.sql)).to_arrow()
    with mq.QueryResult.from_stream(compiled, duckwh.stream(con, compiled.sql)) as streamed:
        batches = list(streamed.batches())
    assert len(batches) > 1  # really in chunks
    assert pa.Table.from_batches(batches).equals(whole)
    with pytest.raises(ResultConsumedError):
        streamed.rows  # noqa: B018 - read once already


def test_stream_csv_equals_whole_csv(project: mq.Project, duck: Any) -> None:
    query = QUERIES[sorted(QUERIES)[0]]
    whole = format_csv(project.run(query, connection=duck, now=NOW))
    with project.run(query, connection=duck, now=NOW, stream=True) as streamed:
        assert "".join(streamed.csv_chunks()) == whole


def test_stream_read_as_rows_first_then_batches_again(big: tuple[CompiledQuery, Any]) -> None:
    compiled, con = big
    streamed = mq.QueryResult.from_stream(compiled, duckwh.stream(con, compiled.sql))
    assert len(streamed.rows) == 300_000
    assert sum(b.num_rows for b in streamed.batches()) == 300_000
    assert sum(b.num_rows for b in streamed.batches()) == 300_000  # from memory, repeatable


def test_max_rows_caps_fetch_and_stream(big: tuple[CompiledQuery, Any]) -> None:
    compiled, con = big
    sql = compiled.sql + " ORDER BY n DESC"
    capped = duckwh.fetch(con, sql, Execution(max_rows=5))
    assert capped.table.column("n").to_pylist() == [299_999, 299_998, 299_997, 299_996, 299_995]
    streamed = duckwh.stream(con, sql, Execution(max_rows=200_000))
    assert sum(b.num_rows for b in streamed) == 200_000


def test_capped_batches_stops_reading_at_the_cap() -> None:
    pulled: list[int] = []

    def batches() -> Iterator[Any]:
        for i in range(100):
            pulled.append(i)
            yield pa.record_batch({"a": list(range(10))})

    got = list(capped_batches(batches(), 25))
    assert [b.num_rows for b in got] == [10, 10, 5]
    assert pulled == [0, 1, 2]  # never asked for a fourth batch


def test_capped_rows_never_asks_for_more_than_the_cap() -> None:
    asked: list[int] = []

    def fetchmany(size: int) -> list[tuple[int]]:
        asked.append(size)
        return [(1,)] * size

    assert sum(len(c) for c in capped_rows(fetchmany, 25, 10)) == 25
    assert asked == [10, 10, 5]


def test_iter_rows_reads_a_stream_one_chunk_at_a_time(
    big: tuple[CompiledQuery, Any],
) -> None:
    compiled, con = big
    whole = mq.QueryResult.from_fetched(compiled, duckwh.fetch(con, compiled.sql)).rows
    stream = duckwh.stream(con, compiled.sql)
    pulled: list[int] = []

    def chunks() -> Iterator[Any]:
        for chunk in stream:
            pulled.append(len(chunk))
            yield chunk

    counted = Stream(stream.columns, chunks(), stream.close, stream.python)
    with mq.QueryResult.from_stream(compiled, counted) as streamed:
        rows = streamed.iter_rows()
        first = next(rows)
        assert len(pulled) == 1 and pulled[0] < len(whole)  # one batch read, not the result
        assert [first, *rows] == whole
    assert len(pulled) > 1


def test_iter_rows_of_a_fetched_result_equals_rows(project: mq.Project, duck: Any) -> None:
    for query in QUERIES.values():
        result = project.run(query, connection=duck, now=NOW)
        assert list(result.iter_rows()) == result.rows
