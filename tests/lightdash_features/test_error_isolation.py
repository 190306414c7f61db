"""Error isolation (issue 10, item 1): one broken field or model never takes the project down."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

import metricql as mq
from metricql.cli import main
from tests.conftest import assert_same_rows
from tests.helpers import make_project
from tests.lightdash_features.conftest import FEATURES

VALIDATE_ERRORS = [
    'error: models/shop/orders.yml:3: Failed to compile explore "orders_with_refunds". Tried to '
    'join table "refunds" to "orders" but table "refunds" has errors: sql_from of model '
    "'refunds' does not parse: 'main.refunds WHERE' (Invalid expression / Unexpected token. "
    "Line 1, Col: 18.)",
    "error: models/shop/refunds.yml:3: sql_from of model 'refunds' does not parse: "
    "'main.refunds WHERE' (Invalid expression / Unexpected token. Line 1, Col: 18.)",
    'error: models/shop/orders.yml:81: dimension sales_region in explore "orders": reference '
    "${customers.regoin} in '${customers.regoin}' cannot be resolved: it matches no dimension "
    "of table 'customers'",
    'error: models/shop/orders.yml:87: dimension region_label in explore "orders" references '
    'orders.sales_region, which has its own error: dimension sales_region in explore "orders": '
    "reference ${customers.regoin} in '${customers.regoin}' cannot be resolved: it matches no "
    "dimension of table 'customers'",
]


def test_validate_lists_every_error_with_file_and_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(FEATURES)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert [line for line in out if line.startswith("error: ")] == VALIDATE_ERRORS
    assert out[-1] == "FAILED: project 'lightdash_features', 3 explores, 2 broken, 4 error(s)"


def test_broken_model_and_explore_are_recorded(features: mq.Project) -> None:
    assert sorted(features.explores) == ["customers", "large_orders", "orders"]
    assert sorted(features.broken_explores) == ["orders_with_refunds", "refunds"]
    (own,) = features.broken_explores["refunds"]
    (joined,) = features.broken_explores["orders_with_refunds"]
    # No cascade: the join says its table has errors, not that it cannot be found.
    assert "cannot find table" not in joined.message
    assert own.message in joined.message
    assert len(features.errors) == 4
    assert features.validate()[: len(features.errors)] == [
        line.removeprefix("error: ").replace("models/", str(FEATURES / "models") + "/", 1)
        for line in VALIDATE_ERRORS
    ]


def test_broken_field_is_left_out_and_the_rest_works(features: mq.Project) -> None:
    orders = features.explore("orders")
    assert "orders_sales_region" not in orders.dimensions
    assert "orders_region_label" not in orders.dimensions
    assert sorted(orders.field_errors) == ["orders_region_label", "orders_sales_region"]
    assert [e.context["line"] for e in orders.errors] == [81, 87]
    assert "orders_status" in orders.dimensions and "orders_total_revenue" in orders.metrics


def test_query_naming_a_broken_field_raises_its_own_error(features: mq.Project) -> None:
    own = features.explore("orders").field_errors["orders_sales_region"]
    query = mq.MetricQuery(explore_name="orders", dimensions=["orders_sales_region"])
    with pytest.raises(mq.CompileError) as err:
        features.compile(query)
    assert err.value is own
    filtered = mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "metrics": ["orders_order_count"],
            "filters": {
                "dimensions": {
                    "id": "g",
                    "and": [
                        {
                            "id": "r",
                            "target": {"fieldId": "orders_region_label"},
                            "operator": "equals",
                            "values": ["UK"],
                        }
                    ],
                }
            },
        }
    )
    with pytest.raises(mq.CompileError, match="references orders.sales_region"):
        features.compile(filtered)


def test_query_naming_a_broken_explore_raises_its_error(features: mq.Project) -> None:
    query = mq.MetricQuery(explore_name="refunds", metrics=["refunds_refunded"])
    with pytest.raises(mq.CompileError, match="sql_from of model 'refunds' does not parse"):
        features.compile(query)


def test_every_other_field_of_every_explore_compiles_and_runs(
    features: mq.Project, fduck: duckdb.DuckDBPyConnection
) -> None:
    ran = 0
    for explore in features.explores.values():
        for fid in explore.dimensions:
            query = mq.MetricQuery(explore_name=explore.name, dimensions=[fid], limit=5)
            features.run(query, connection=fduck)
            ran += 1
        for fid in explore.metrics:
            query = mq.MetricQuery(explore_name=explore.name, metrics=[fid])
            assert len(features.run(query, connection=fduck).rows) == 1
            ran += 1
    assert ran == sum(len(e.dimensions) + len(e.metrics) for e in features.explores.values())
    assert ran >= 20


def test_orders_by_country_oracle(features: mq.Project, fduck: duckdb.DuckDBPyConnection) -> None:
    query = mq.MetricQuery(
        explore_name="orders",
        dimensions=["customers_country"],
        metrics=["orders_total_revenue", "orders_order_count", "orders_average_order_value"],
    )
    want = fduck.sql(
        """SELECT c.country, ROUND(SUM(o.amount), 2), COUNT(DISTINCT o.order_id),
                  SUM(o.amount) / COUNT(DISTINCT o.order_id)
           FROM main.orders o LEFT JOIN main.customers c ON o.customer_id = c.customer_id
           GROUP BY 1"""
    ).fetchall()
    got = features.run(query, connection=fduck).rows
    assert_same_rows(got, want, query.dimensions + query.metrics)


def test_strict_raises_every_problem_at_once() -> None:
    with pytest.raises(mq.ProjectErrors) as err:
        mq.load_project(FEATURES, strict=True)
    assert len(err.value.errors) == 4


def test_explores_cli_shows_broken_explores(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explores", str(FEATURES)]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert [r[:2] for r in rows if "error" in r[1:2]] == [
        ["orders_with_refunds", "error"],
        ["refunds", "error"],
    ]
    assert main(["explores", str(FEATURES), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [e["name"] for e in data["errors"]] == ["orders_with_refunds", "refunds"]
    assert data["errors"][1]["errors"][0]["type"] == "METADATA_PARSE_ERROR"


def test_explore_summaries_mark_errored_explores(features: mq.Project) -> None:
    rows = mq.explore_summaries(features.explores, features.explore_errors())
    marked = {r["name"]: r.get("errors") for r in rows}
    assert marked["orders"] is None and marked["customers"] is None
    assert "does not parse" in marked["refunds"][0]["message"]


SCHEMA_BROKEN = """
models:
  - name: t
    columns:
      - name: x
        meta: {dimension: {type: number}, metrics: {total: {type: sum}}}
      - name: y
        meta: {dimension: [not, a, mapping]}
  - name: u
    meta: {joins: [{sql_on: "1 = 1"}]}
    columns: [{name: z}]
"""


def test_yaml_problems_of_one_model_or_column_are_isolated(tmp_path: Path) -> None:
    project = mq.load_project(make_project(tmp_path, {"models": SCHEMA_BROKEN}))
    assert sorted(project.explores) == ["t"]
    assert sorted(project.broken_explores) == ["u"]
    explore = project.explore("t")
    assert "t_y" not in explore.dimensions and "t_total" in explore.metrics
    assert [e.context.get("line") for e in explore.errors] == [8]
    with pytest.raises(mq.ProjectError, match="column 'y'"):
        project.compile(mq.MetricQuery(explore_name="t", dimensions=["t_y"]))
    with pytest.raises(mq.ProjectErrors):
        mq.load_project(tmp_path, strict=True)


METRIC_CHAIN = """
models:
  - name: t
    meta:
      metrics:
        ratio: {type: number, sql: "${broken} / 2"}
        doubled: {type: number, sql: "${ratio} * 2"}
        fine: {type: number, sql: "${total} * 2"}
    columns:
      - name: x
        meta:
          dimension: {type: number}
          metrics:
            total: {type: sum}
            broken: {type: sum, sql: "${TABLE}.x +* ("}
"""


def test_metrics_over_a_broken_metric_each_say_why(tmp_path: Path) -> None:
    project = mq.load_project(make_project(tmp_path, {"models": METRIC_CHAIN}))
    explore = project.explore("t")
    assert sorted(explore.metrics) == ["t_fine", "t_total"]
    errors = explore.field_errors
    assert "does not parse" in errors["t_broken"].message
    assert "references t.broken, which has its own error: SQL does not parse" in (
        errors["t_ratio"].message
    )
    assert errors["t_doubled"].message.startswith(
        'metric doubled in explore "t" references metric t_ratio, which has its own error'
    )
    assert {f: e.context["line"] for f, e in errors.items()} == {
        "t_broken": 15,
        "t_ratio": 6,
        "t_doubled": 7,
    }
