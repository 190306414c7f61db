"""A project-level week start changes week truncation and relative week filters alike."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

import metricql as mq
from tests.conftest import assert_same_rows
from tests.helpers import make_project

MODELS = """
models:
  - name: orders
    columns:
      - name: order_id
        meta: {dimension: {type: number}, metrics: {n: {type: count}}}
      - name: order_date
        meta: {dimension: {type: date, time_intervals: [WEEK, DAY_OF_WEEK_INDEX]}}
"""


def _project(tmp_path: Path, week_start: str) -> mq.Project:
    root = make_project(tmp_path, {"models": MODELS})
    project_file = root / "dbt_project.yml"
    project_file.write_text(
        project_file.read_text() + f"vars:\n  metricql:\n    week_start: {week_start}\n"
    )
    return mq.load_project(root)


def test_sunday_weeks(tmp_path: Path, duck: duckdb.DuckDBPyConnection) -> None:
    project = _project(tmp_path, "sunday")
    query = mq.MetricQuery(
        explore_name="orders",
        dimensions=["orders_order_date_week"],
        metrics=["orders_n"],
        limit=None,
    )
    want = duck.sql("""SELECT order_date - CAST(DAYOFWEEK(order_date) AS INTEGER) AS w, COUNT(*)
                       FROM main.orders GROUP BY w""").fetchall()
    result = project.run(query, connection=duck)
    assert_same_rows(result.rows, want, ["orders_order_date_week", "orders_n"])
    assert {
        r["orders_order_date_week"].isoweekday() for r in result.rows if r["orders_order_date_week"]
    } == {7}


def test_current_week_filter_uses_the_same_week_start(
    tmp_path: Path, duck: duckdb.DuckDBPyConnection
) -> None:
    project = _project(tmp_path, "sunday")
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "metrics": ["orders_n"],
            "limit": None,
            "filters": {
                "dimensions": {
                    "id": "g",
                    "and": [
                        {
                            "id": "r",
                            "target": {"fieldId": "orders_order_date"},
                            "operator": "inTheCurrent",
                            "values": [1],
                            "settings": {"unitOfTime": "weeks"},
                        }
                    ],
                }
            },
        }
    )
    now = datetime(2024, 3, 13, 12, 0, tzinfo=timezone.utc)  # a Wednesday
    got = project.run(query, connection=duck, now=now).rows
    want = duck.sql(
        "SELECT COUNT(*) FROM main.orders "
        "WHERE order_date BETWEEN DATE '2024-03-10' AND DATE '2024-03-16'"
    ).fetchall()
    assert_same_rows(got, want, ["orders_n"])


def test_bad_week_start(tmp_path: Path) -> None:
    with pytest.raises(mq.ProjectError, match="week_start"):
        _project(tmp_path, "someday")
