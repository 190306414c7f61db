"""`check_relationships` runs its SQL on PostgreSQL, ClickHouse and Spark and finds what it
finds on DuckDB (tests/oracle/test_relationships.py proves DuckDB's findings)."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

import metricql as mq
from tests.oracle.test_relationships import _broken

pytestmark = pytest.mark.engines


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> mq.Project:
    return mq.load_project(_broken(tmp_path_factory.mktemp("rel_engines")))


def _found(report: mq.RelationshipReport) -> set[tuple[Any, ...]]:
    """What a report says, engine types aside: kind, table, example key, row and key counts."""
    return {
        (v.kind, v.table, tuple(str(x) for x in v.example.values()), v.rows, v.keys)
        for v in report.violations
    }


def _same(
    project: mq.Project, duck: duckdb.DuckDBPyConnection, connection: Any, dialect: str
) -> None:
    want = project.check_relationships(duck)
    got = project.check_relationships(connection, dialect=dialect)
    assert got.checked == want.checked
    assert _found(got) == _found(want), f"{dialect}: {got.violations}"


@pytest.mark.parametrize("broken_project", [False, True])
def test_postgres(
    project: mq.Project,
    broken: mq.Project,
    duck: duckdb.DuckDBPyConnection,
    postgres: Any,
    broken_project: bool,
) -> None:
    _same(broken if broken_project else project, duck, postgres, "postgres")


@pytest.mark.parametrize("broken_project", [False, True])
def test_clickhouse(
    project: mq.Project,
    broken: mq.Project,
    duck: duckdb.DuckDBPyConnection,
    clickhouse: Any,
    broken_project: bool,
) -> None:
    _same(broken if broken_project else project, duck, clickhouse, "clickhouse")


@pytest.mark.parametrize("broken_project", [False, True])
def test_spark(
    project: mq.Project,
    broken: mq.Project,
    duck: duckdb.DuckDBPyConnection,
    spark: Any,
    broken_project: bool,
) -> None:
    _same(broken if broken_project else project, duck, spark, "spark")
