"""The plan carries what later stages read: each query is planned, its metric closure walked and
its fan-out analysed exactly once per compile, explain and totals call; `reads` is the complete
set of explore fields the SQL reads (the access closure)."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import metricql as mq
from metricql.compiler.plan.closure import metric_closure
from metricql.compiler.plan.fanout import fanout_plan
from metricql.compiler.plan.joins import JoinReason
from metricql.compiler.plan.plan import plan_query
from tests.conftest import SAMPLE
from tests.engines.queries import NOW, QUERIES
from tests.helpers import make_project
from tests.oracle.test_case_sensitivity import MODELS as CASE_MODELS

COUNTED: dict[str, Callable[..., Any]] = {
    "plan_query": plan_query,
    "metric_closure": metric_closure,
    "fanout_plan": fanout_plan,
}
ONCE = Counter(dict.fromkeys(COUNTED, 1))
FILTERED = "filter_metric_or_group"  # metric filters: totals keep only the groups that pass
FANOUT = "join_orders_to_payments_fanout"


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Counts of each stage, wherever a metricql module calls it from."""
    counts: Counter[str] = Counter()
    for name, original in COUNTED.items():

        def counting(*args: Any, _name: str = name, _run: Any = original, **kw: Any) -> Any:
            counts[_name] += 1
            return _run(*args, **kw)

        patched = 0
        for module in list(sys.modules.values()):
            if module.__name__.startswith("metricql") and getattr(module, name, None) is original:
                monkeypatch.setattr(module, name, counting)
                patched += 1
        assert patched, name
    yield counts


@pytest.fixture(scope="module")
def fresh() -> mq.Project:
    """A project of its own: its compile cache holds none of these queries yet."""
    return mq.load_project(SAMPLE)


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_compile_plans_once(fresh: mq.Project, calls: Counter[str], name: str) -> None:
    fresh.compile(QUERIES[name], dialect="postgres", now=NOW)
    assert calls == ONCE


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_explain_plans_once(fresh: mq.Project, calls: Counter[str], name: str) -> None:
    fresh.explain(QUERIES[name], now=NOW)
    assert calls == ONCE


TOTALLED = sorted(n for n, q in QUERIES.items() if q.metrics)


@pytest.mark.parametrize("name", TOTALLED)
def test_totals_plan_once(fresh: mq.Project, calls: Counter[str], name: str) -> None:
    fresh.compile_totals(QUERIES[name], now=NOW)
    assert calls == ONCE


def test_the_cases_cover_restricted_and_split_totals() -> None:
    """Totals of a query with metric filters derive their plan from the grouped query's."""
    assert QUERIES[FILTERED].filters.metrics is not None and FILTERED in TOTALLED
    assert FANOUT in TOTALLED


def test_restricted_totals_over_fanout_plan_once(
    fresh: mq.Project, calls: Counter[str], duck: Any
) -> None:
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "dimensions": ["payments_payment_method"],
            "metrics": ["orders_total_revenue", "orders_average_order_value"],
            "filters": {
                "metrics": {
                    "id": "m",
                    "and": [
                        {
                            "id": "r",
                            "target": {"fieldId": "orders_order_count"},
                            "operator": "greaterThan",
                            "values": [100],
                        }
                    ],
                }
            },
        }
    )
    totals = fresh.totals(query, connection=duck)
    assert calls == ONCE
    want = duck.sql("""
        WITH passing AS (
            SELECT p.payment_method FROM main.orders o LEFT JOIN main.payments p USING (order_id)
            GROUP BY 1 HAVING COUNT(DISTINCT o.order_id) > 100),
        kept AS (
            SELECT DISTINCT o.order_id, o.amount FROM main.orders o
            LEFT JOIN main.payments p USING (order_id)
            JOIN passing ON p.payment_method IS NOT DISTINCT FROM passing.payment_method)
        SELECT SUM(amount), SUM(amount) / COUNT(order_id) FROM kept""").fetchall()
    assert totals["orders_total_revenue"] == pytest.approx(float(want[0][0]))
    assert totals["orders_average_order_value"] == pytest.approx(float(want[0][1]))


def test_reads_is_every_explore_field_the_sql_reads(project: mq.Project) -> None:
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "dimensions": ["orders_status", "amount_bin", "greeting"],
            "metrics": ["orders_average_order_value", "orders_ltv", "orders_revenue_share"],
            "customDimensions": [
                {
                    "id": "amount_bin",
                    "name": "Amount bin",
                    "table": "orders",
                    "type": "bin",
                    "dimensionId": "orders_amount",
                    "binType": "fixed_width",
                    "binWidth": 10,
                },
                {
                    "id": "first",
                    "name": "first",
                    "table": "customers",
                    "type": "sql",
                    "sql": "${customers.first_name}",
                    "dimensionType": "string",
                },
                {
                    "id": "greeting",
                    "name": "greeting",
                    "table": "orders",
                    "type": "sql",
                    "sql": "'hi ' || ${first}",
                    "dimensionType": "string",
                },
            ],
            "additionalMetrics": [
                {
                    "table": "orders",
                    "name": "ltv",
                    "type": "sum",
                    "sql": "${customers.lifetime_score}",
                    "filters": [
                        {
                            "target": {"fieldId": "customers.country"},
                            "operator": "equals",
                            "values": ["Japan"],
                        }
                    ],
                },
            ],
            "filters": {
                "dimensions": {
                    "id": "d",
                    "and": [
                        {
                            "id": "p",
                            "target": {"fieldId": "payments_status"},
                            "operator": "equals",
                            "values": ["success"],
                        },
                    ],
                },
                "metrics": {
                    "id": "m",
                    "and": [
                        {
                            "id": "c",
                            "target": {"fieldId": "orders_completed_revenue"},
                            "operator": "greaterThan",
                            "values": [0],
                        },
                    ],
                },
            },
            "tableCalculations": [
                {"name": "double", "displayName": "Double", "sql": "${orders.ltv} * 2"},
            ],
        }
    )
    plan = plan_query(project.explore("orders"), query)
    assert plan.reads == {
        "orders_status",  # selected, and the YAML filter of orders_completed_revenue
        "orders_amount",  # the bin's base dimension
        "customers_first_name",  # through the custom dimension `first` that `greeting` reads
        "orders_average_order_value",  # selected, and the metrics it references:
        "orders_order_count",
        "orders_total_revenue",
        "orders_revenue_share",  # a post-calculation metric, reading total_revenue
        "customers_lifetime_score",  # the additional metric's SQL
        "customers_country",  # and its filter
        "payments_status",  # a dimension filter
        "orders_completed_revenue",  # a metric filter
    }


def test_a_metric_yaml_filter_on_a_joined_table_joins_it(tmp_path: Path) -> None:
    models = CASE_MODELS.format(customers="null", orders="null")
    explore = mq.load_project(make_project(tmp_path, {"models": models})).explore("orders")
    plan = plan_query(
        explore, mq.MetricQuery(explore_name="orders", metrics=["orders_german_orders"])
    )
    assert [j.table for j in plan.joins] == ["customers"]
    assert plan.join_reasons["customers"] == (JoinReason("metric", "orders_german_orders"),)
    assert plan.reads == {"orders_german_orders", "customers_country"}
