"""Charts and dashboards as code checked against the explores (ValidateProject)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import metricql as mq
from metricql.cli import main
from tests.conftest import SAMPLE

BROKEN_CHART = """
name: Broken
slug: broken
tableName: orders
metricQuery:
  exploreName: orders
  dimensions: [orders_statuss, amount_bin]
  metrics: [orders_order_count, orders_total_revenu, orders_gift]
  filters:
    dimensions:
      and:
        - target: {fieldId: customers_countryy}
          operator: equals
          values: [DE]
  sorts:
    - fieldId: orders_order_date
  customDimensions:
    - {id: amount_bin, name: Amount, table: orders, type: bin, dimensionId: orders_amout,
       binType: fixed_width, binWidth: 10}
  additionalMetrics:
    - {table: orders, name: gift, type: sum, sql: "${TABLE}.amount", baseDimensionName: amnt}
  limit: 10
chartConfig:
  type: cartesian
  config:
    layout: {xField: orders_status, yField: [orders_order_count]}
"""
MISSING_EXPLORE = """
name: Gone
slug: gone
tableName: orderz
metricQuery: {exploreName: orderz, dimensions: [], metrics: [orderz_count], limit: 1}
"""
DOES_NOT_COMPILE = """
name: Bad filter
slug: bad-filter
tableName: orders
metricQuery:
  exploreName: orders
  metrics: [orders_order_count]
  filters:
    dimensions:
      and: [{target: {fieldId: orders_order_date}, operator: inThePast, values: [nope]}]
  limit: 1
"""
DASHBOARD = """
name: Board
slug: board
tiles:
  - {type: saved_chart, properties: {chartSlug: brokn}}
  - {type: markdown, properties: {content: hi}}
filters:
  dimensions:
    - {target: {fieldId: orders_stat, tableName: orders}, operator: equals, values: [x]}
    - {target: {fieldId: x_y, tableName: nowhere}, operator: equals, values: [x]}
"""


@pytest.fixture
def content(tmp_path: Path) -> Path:
    root = tmp_path / "lightdash"
    (root / "charts").mkdir(parents=True)
    (root / "dashboards").mkdir()
    for name, text in {
        "broken": BROKEN_CHART,
        "gone": MISSING_EXPLORE,
        "bad": DOES_NOT_COMPILE,
    }.items():
        (root / "charts" / f"{name}.yml").write_text(textwrap.dedent(text))
    (root / "dashboards" / "board.yml").write_text(textwrap.dedent(DASHBOARD))
    return tmp_path


def _by(problems: list[mq.ContentProblem]) -> dict[tuple[str, str | None], mq.ContentProblem]:
    return {(p.error_type, p.field_name): p for p in problems}


def test_every_broken_reference_is_reported_with_a_suggestion(
    project: mq.Project, content: Path
) -> None:
    problems = project.validate_content(content)
    found = _by([p for p in problems if p.slug == "broken"])
    assert set(found) == {
        ("dimension", "orders_statuss"),
        ("metric", "orders_total_revenu"),
        ("filter", "customers_countryy"),
        ("sorting", "orders_order_date"),
        ("dimension", "orders_amout"),
        ("custom metric", "orders_amnt"),
        ("chart configuration", "orders_status"),
    }
    assert found["dimension", "orders_statuss"].suggestion == "did you mean 'orders_status'?"
    assert (
        found["metric", "orders_total_revenu"].suggestion == "did you mean 'orders_total_revenue'?"
    )
    assert found["filter", "customers_countryy"].suggestion == "did you mean 'customers_country'?"
    assert all(
        p.name == "Broken" and p.file and p.file.endswith("broken.yml") for p in found.values()
    )


def test_missing_explore_compile_errors_and_dashboards(project: mq.Project, content: Path) -> None:
    problems = project.validate_content(content)
    gone = [p for p in problems if p.slug == "gone"]
    assert [(p.error_type, p.suggestion) for p in gone] == [("model", "did you mean 'orders'?")]
    bad = [p for p in problems if p.slug == "bad-filter"]
    assert [p.error_type for p in bad] == ["chart"]
    board = _by([p for p in problems if p.source == "dashboard"])
    assert board["chart", None].chart_name == "brokn"
    assert board["chart", None].suggestion == "did you mean 'broken'?"
    assert board["filter", "orders_stat"].suggestion == "did you mean 'orders_status'?"
    assert ("filter", "x_y") in board
    assert board["filter", "x_y"].to_dict()["errorType"] == "filter"


def test_the_sample_content_is_valid(project: mq.Project) -> None:
    assert project.validate_content(SAMPLE / "lightdash") == []


def test_unreadable_content_raises_project_errors(project: mq.Project, tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("name: [unclosed\n")
    (tmp_path / "b.yml").write_text("name: x\nmetricQuery: 5\n")
    with pytest.raises(mq.ProjectErrors) as info:
        project.validate_content(tmp_path)
    assert len(info.value.errors) == 2
    with pytest.raises(mq.ProjectError):
        project.validate_content(tmp_path / "missing")


def test_cli_validate_content_and_run_a_chart(
    content: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(SAMPLE), "--content", str(content)]) == 2
    out = capsys.readouterr().out
    assert "chart 'Broken': dimension 'orders_statuss' no longer exists" in out
    assert "did you mean 'orders_status'?" in out
    assert main(["validate", str(SAMPLE), "--content", str(SAMPLE / "lightdash")]) == 0
    assert "content: 0 problem(s)" in capsys.readouterr().out
    chart = SAMPLE / "lightdash" / "charts" / "payment-methods.yml"
    assert main(["run", str(SAMPLE), str(chart), "--format", "json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)["rows"]
    query = mq.MetricQuery(
        explore_name="payments",
        dimensions=["payments_payment_method"],
        metrics=["payments_total_amount", "payments_payment_count"],
        sorts=[{"field_id": "payments_total_amount", "descending": True}],
        limit=10,
    )
    assert rows == mq.load_project(SAMPLE).run(query).to_dict()["rows"]
