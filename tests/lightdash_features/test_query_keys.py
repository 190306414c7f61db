"""Nothing silently ignored (issue 10, item 4): a query key metricql does not implement raises
UnsupportedError naming it; presentation-only keys are ignored from an explicit list."""

from __future__ import annotations

from typing import Any

import pytest

import metricql as mq
from metricql.cli import main
from metricql.query.keys import PRESENTATION_ONLY, accepted_keys, read_keys
from metricql.query.model import AdditionalMetric, MetricQuery, TableCalculation

BASE: dict[str, Any] = {
    "exploreName": "orders",
    "dimensions": ["orders_status"],
    "metrics": ["orders_total_revenue"],
    "limit": 50,
}
RULE = {"id": "r", "target": {"fieldId": "orders_status"}, "operator": "equals", "values": ["x"]}
EXTRA = {"table": "orders", "name": "n", "type": "count", "sql": "${TABLE}.order_id"}


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({**BASE, "pivotConfiguration": {"columns": []}}, "columns"),
        ({**BASE, "dateZoom": {"granularity": "MONTH", "chart": 1}}, "chart"),
        ({**BASE, "periodOverPeriod": {"granularity": "YEAR"}}, "periodOverPeriod"),
        ({**BASE, "sorts": [{"fieldId": "orders_status", "descending": True, "x": 1}]}, "x"),
        ({**BASE, "filters": {"dimensions": {"id": "g", "and": [{**RULE, "joker": 1}]}}}, "joker"),
        ({**BASE, "filters": {"dimensions": {"id": "g", "and": [RULE]}, "other": {}}}, "other"),
        ({**BASE, "additionalMetrics": [{**EXTRA, "windowSize": 3}]}, "windowSize"),
        ({**BASE, "tableCalculations": [{"name": "c", "sql": "1", "totalMode": "x"}]}, "totalMode"),
    ],
)
def test_unknown_query_keys_raise_unsupported_naming_them(body: dict[str, Any], key: str) -> None:
    with pytest.raises(mq.UnsupportedError, match=f"'{key}', which metricql does not implement"):
        MetricQuery.model_validate(body)


def test_presentation_only_keys_are_ignored(features: mq.Project) -> None:
    plain = {**BASE, "filters": {"dimensions": {"id": "g", "and": [RULE]}}}
    dressed = {
        **plain,
        "metadata": {"hasADateDimension": {"name": "order_date", "label": "Date"}},
        "metricOverrides": {"orders_total_revenue": {"formatOptions": {"type": "currency"}}},
        "filters": {
            "dimensions": {
                "id": "g",
                "and": [{**RULE, "target": {"fieldId": "orders_status", "tableName": "orders"}}],
            }
        },
        "additionalMetrics": [{**EXTRA, "compact": "thousands", "uuid": "u", "index": 2}],
    }
    plain["additionalMetrics"] = [EXTRA]
    got = features.compile(MetricQuery.model_validate(dressed)).sql
    assert got == features.compile(MetricQuery.model_validate(plain)).sql


def test_ignored_lists_are_keys_no_model_reads() -> None:
    # A key cannot be both read and ignored: ignoring would then hide a meaning.
    models = {"MetricQuery": MetricQuery, "AdditionalMetric": AdditionalMetric}
    models["TableCalculation"] = TableCalculation
    for name, model in models.items():
        assert not read_keys(model) & PRESENTATION_ONLY[name]
        assert PRESENTATION_ONLY[name] <= accepted_keys(model)


def test_period_over_period_value_is_never_a_plain_metric(features: mq.Project) -> None:
    pop = {
        **EXTRA,
        "name": "revenue_prev_year",
        "type": "sum",
        "sql": "${TABLE}.amount",
        "generationType": "someFutureKind",
        "baseMetricId": "orders_total_revenue",
    }
    query = MetricQuery.model_validate({**BASE, "additionalMetrics": [pop]})
    with pytest.raises(mq.UnsupportedError, match="someFutureKind"):
        features.compile(query)


def test_cli_names_the_unsupported_key(
    tmp_path: Any, features: mq.Project, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "q.json"
    path.write_text('{"exploreName": "orders", "metrics": ["orders_order_count"], "pivot": 1}')
    assert main(["compile", str(features.root), str(path)]) == 2
    assert "'pivot', which metricql does not implement" in capsys.readouterr().err
