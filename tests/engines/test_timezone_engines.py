"""Timezone buckets across DST changes give DuckDB's rows on PostgreSQL, ClickHouse and Spark
(DuckDB's own are proven by tests/oracle/test_timezone_buckets.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pytest

import metricql as mq
from tests.engines.clickhouse_engine import DATABASES, run_clickhouse, sql_on
from tests.engines.compare import compare, rows_of
from tests.engines.test_postgres import run_postgres
from tests.timezone_project import ZONE, timezone_project

pytestmark = pytest.mark.engines

GRAINS = ("hour", "day", "week", "month", "quarter", "year")
Run = Callable[[mq.Project, mq.MetricQuery], mq.QueryResult]


@pytest.fixture(scope="module")
def zoned(tmp_path_factory: pytest.TempPathFactory) -> mq.Project:
    return timezone_project(tmp_path_factory.mktemp("tz_engines"))


def _query(grain: str) -> mq.MetricQuery:
    return mq.MetricQuery(
        explore_name="orders",
        dimensions=[f"orders_ordered_at_{grain}", "orders_status"],
        metrics=["orders_order_count"],
        timezone=ZONE,
        limit=None,
    )


def _same(
    zoned: mq.Project, duck: duckdb.DuckDBPyConnection, grain: str, run: Run, engine: str
) -> None:
    query = _query(grain)
    want = zoned.run(query, connection=duck)
    got = run(zoned, query)
    columns = want.columns
    assert len(want.rows) > 10
    problem = compare(rows_of(got.rows, columns), rows_of(want.rows, columns), columns, (), None)
    assert problem is None, f"{grain}: {engine} differs from duckdb: {problem}\n{got.sql}"


@pytest.mark.parametrize("grain", GRAINS)
def test_postgres(
    zoned: mq.Project, duck: duckdb.DuckDBPyConnection, postgres: Any, grain: str
) -> None:
    _same(
        zoned,
        duck,
        grain,
        lambda p, q: run_postgres(postgres, p.compile(q, dialect="postgres")),
        "postgres",
    )


@pytest.mark.parametrize("grain", GRAINS)
@pytest.mark.parametrize("database", DATABASES)
def test_clickhouse(
    zoned: mq.Project, duck: duckdb.DuckDBPyConnection, clickhouse: Any, database: str, grain: str
) -> None:
    def run(project: mq.Project, query: mq.MetricQuery) -> mq.QueryResult:
        compiled = project.compile(query, dialect="clickhouse")
        return run_clickhouse(clickhouse, compiled, sql_on(compiled, database))

    _same(zoned, duck, grain, run, f"clickhouse ({database})")


@pytest.mark.parametrize("grain", GRAINS)
def test_spark(zoned: mq.Project, duck: duckdb.DuckDBPyConnection, spark: Any, grain: str) -> None:
    _same(zoned, duck, grain, lambda p, q: p.run(q, connection=spark), "spark")
