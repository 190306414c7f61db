"""Explore JSON: summaries, and compiled field SQL that runs to the numbers queries give."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import metricql as mq
from tests.helpers import make_project


def test_summaries_name_every_explore_with_its_schema(project: mq.Project) -> None:
    rows = mq.explore_summaries(project.explores)
    assert [r["name"] for r in rows] == sorted(project.explores)
    orders = next(r for r in rows if r["name"] == "orders")
    assert orders["label"] == "Orders" and orders["schemaName"] == "main"
    assert orders["type"] == "default" and "errors" not in orders


def test_errored_explores_are_listed_as_lightdash_marks_them(project: mq.Project) -> None:
    broken = {"name": "aaa", "label": "A", "errors": [{"type": "FIELD_ERROR", "message": "m"}]}
    rows = mq.explore_summaries(project.explores, [broken])
    assert rows[0] == {"name": "aaa", "label": "A", "tags": [], "errors": broken["errors"]}


def _aggregate_metrics(project: mq.Project) -> list[str]:
    orders = project.explore("orders").tables["orders"]
    return [
        m.id
        for m in orders.metrics.values()
        if m.is_aggregate and not m.is_post_calculation and m.tables_references == {"orders"}
    ]


def test_compiled_metric_sql_equals_the_query_result(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    table = mq.explore_to_dict(project.explore("orders"))["tables"]["orders"]
    metrics = _aggregate_metrics(project)
    assert len(metrics) >= 5
    for metric_id in metrics:
        compiled = table["metrics"][metric_id.removeprefix("orders_")]["compiledSql"]
        (want,) = duck.execute(f'SELECT {compiled} FROM main.orders AS "orders"').fetchall()[0]
        query = mq.MetricQuery(explore_name="orders", metrics=[metric_id])
        got = project.run(query, connection=duck).rows[0][metric_id]
        assert got == pytest.approx(want), metric_id


def test_interval_dimension_shows_its_base_and_truncation(project: mq.Project) -> None:
    dim = mq.explore_to_dict(project.explore("orders"))["tables"]["orders"]["dimensions"][
        "order_date_month"
    ]
    assert dim["sql"] == '"orders".order_date'
    assert "DATE_TRUNC('MONTH'" in dim["compiledSql"]
    assert (dim["timeInterval"], dim["timeIntervalBaseDimensionName"]) == ("MONTH", "order_date")


def test_user_attributes_stay_references(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        {
            "sales": """
            version: 2
            models:
              - name: sales
                meta:
                  sql_filter: ${TABLE}.region = ${lightdash.attributes.region}
                columns:
                  - name: region
                    meta: {dimension: {type: string}}
                  - name: amount
                    meta:
                      dimension:
                        type: number
                        sql: CASE WHEN ${lightdash.user.email} = 'x' THEN ${TABLE}.amount END
            """
        },
    )
    project = mq.load_project(root)
    table = mq.explore_to_dict(project.explore("sales"))["tables"]["sales"]
    assert table["sqlWhere"] == '"sales".region = ${lightdash.attributes.region}'
    assert "${lightdash.user.email}" in table["dimensions"]["amount"]["compiledSql"]
    loaded = project.with_explores(
        mq.load_explores_json([mq.explore_to_dict(project.explore("sales"))])
    )
    query = mq.MetricQuery(explore_name="sales", dimensions=["sales_amount"])
    user = mq.UserContext(attributes={"region": "EU"}, email="x")
    assert loaded.compile(query, user=user).sql == project.compile(query, user=user).sql
