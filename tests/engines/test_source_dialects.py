"""YAML SQL written for BigQuery means the same on DuckDB and PostgreSQL (semantic/source_sql.py
and the target rules of compiler/sql/dialect_rules.py), checked against a Python computation."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

import metricql as mq
from metricql.cli import main
from tests.conftest import SAMPLE
from tests.engines.test_postgres import run_postgres
from tests.helpers import make_project

pytestmark = pytest.mark.engines

ORDERS = """
version: 2
models:
  - name: orders
    columns:
      - name: order_id
        meta:
          dimension: {type: number}
      - name: order_date
        meta:
          dimension: {type: date, time_intervals: OFF}
          additional_dimensions:
            last_day_before_month:
              type: date
              sql: DATE_TRUNC(${TABLE}.order_date, MONTH) - 1
            day_of_year:
              type: number
              sql: EXTRACT(DAYOFYEAR FROM ${TABLE}.order_date)
            week_later:
              type: date
              sql: DATE_ADD(${TABLE}.order_date, INTERVAL 7 DAY)
            third_of_month:
              type: date
              sql: DATE_SUB(DATE_TRUNC(${TABLE}.order_date, MONTH), INTERVAL 1 DAY) + 3
"""
FIELDS = ("last_day_before_month", "day_of_year", "week_later", "third_of_month")


def _expected(day: date) -> tuple[Any, ...]:
    first = day.replace(day=1)
    return (
        first - timedelta(days=1),
        day.timetuple().tm_yday,
        day + timedelta(days=7),
        first + timedelta(days=2),
    )


@pytest.fixture(scope="module")
def bigquery_project(tmp_path_factory: pytest.TempPathFactory) -> mq.Project:
    root = make_project(tmp_path_factory.mktemp("bq") / "shop", {"orders": ORDERS})
    return mq.load_project(root, source_dialect="bigquery")


def _rows(engine: str, project: mq.Project, duck: Any, postgres: Any) -> list[tuple[Any, ...]]:
    query = mq.MetricQuery(
        explore_name="orders",
        dimensions=["orders_order_id", *(f"orders_{f}" for f in FIELDS)],
        sorts=[{"field_id": "orders_order_id"}],
        limit=5000,
    )
    if engine == "duckdb":
        result = project.run(query, connection=duck)
    else:
        result = run_postgres(postgres, project.compile(query, dialect="postgres"))
    return [tuple(row[c] for c in query.dimensions) for row in result.rows]


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_bigquery_date_sql_means_the_same_on(
    engine: str,
    bigquery_project: mq.Project,
    duck: duckdb.DuckDBPyConnection,
    request: pytest.FixtureRequest,
) -> None:
    postgres = request.getfixturevalue("postgres") if engine == "postgres" else None
    with (SAMPLE / "seeds" / "orders.csv").open() as f:
        rows = list(csv.DictReader(f))
    orders = [(int(r["order_id"]), r["order_date"]) for r in rows]
    want = [
        (order_id, *(_expected(date.fromisoformat(day)) if day else (None,) * len(FIELDS)))
        for order_id, day in sorted(orders)
    ]
    assert any(day == "" for _, day in orders)  # NULL dates stay NULL
    got = _rows(engine, bigquery_project, duck, postgres)
    assert len(got) == len(want) > 100
    assert [_numbers_as_float(row) for row in got] == [_numbers_as_float(row) for row in want]


def _numbers_as_float(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """PostgreSQL gives EXTRACT as NUMERIC, DuckDB as BIGINT."""
    return tuple(float(v) if isinstance(v, (int, Decimal)) else v for v in row)


def test_without_a_profile_validate_says_which_dialect_yaml_sql_is_read_as(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "shop", {"orders": ORDERS}, profiles=None)
    assert main(["validate", str(root)]) == 0
    assert (
        "warning: dbt_project.yml: no profiles.yml target, so YAML SQL is read as DuckDB SQL; "
        "if it is written for another warehouse, pass source_dialect= (CLI: --source-dialect)\n"
    ) in capsys.readouterr().err
    assert main(["validate", str(root), "--source-dialect", "bigquery"]) == 0
    assert "read as DuckDB SQL" not in capsys.readouterr().err
    sql = (
        mq.load_project(root, source_dialect="bigquery")
        .compile(
            mq.MetricQuery(explore_name="orders", dimensions=["orders_last_day_before_month"]),
            dialect="postgres",
        )
        .sql
    )
    assert "CAST(DATE_TRUNC('MONTH', \"orders\".order_date) AS DATE) - 1" in sql
    with pytest.raises(mq.ProjectError, match="unknown source dialect 'bigqeury'"):
        mq.load_project(root, source_dialect="bigqeury")
