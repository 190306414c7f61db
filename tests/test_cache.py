"""The compile cache: identical compiles are served from it, nothing else is."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import metricql as mq
from metricql.compiler.compile import compile_query
from metricql.compiler.options import CompileOptions
from tests.helpers import make_project
from tests.oracle.test_access import MODELS


def _query(**kw: object) -> mq.MetricQuery:
    base: dict[str, object] = {
        "exploreName": "orders",
        "dimensions": ["orders_status"],
        "metrics": ["orders_total_revenue"],
    }
    return mq.MetricQuery.model_validate({**base, **kw})


def test_cached_compile_equals_a_fresh_one(project: mq.Project) -> None:
    query = _query(
        tableCalculations=[
            {
                "name": "t",
                "displayName": "T",
                "sql": "${orders.total_revenue} * 2",
                "format": {"type": "number"},
            }
        ]
    )  # dict field: JSON key
    first = project.compile(query, dialect="postgres")
    again = project.compile(
        mq.MetricQuery.model_validate(query.model_dump(by_alias=True)), dialect="postgres"
    )
    assert again is first  # served from the cache (an equal query, a different object)
    fresh = compile_query(project.explore("orders"), query, CompileOptions(dialect="postgres"))
    assert (fresh.sql, fresh.fields, fresh.warnings) == (first.sql, first.fields, first.warnings)


def test_dialect_and_options_are_part_of_the_key(project: mq.Project) -> None:
    query = _query()
    assert project.compile(query, dialect="duckdb") is not project.compile(
        query, dialect="postgres"
    )
    assert project.compile(query, max_limit=1000) is not project.compile(query)


def test_different_users_never_share_an_entry(tmp_path: Path) -> None:
    project = mq.load_project(make_project(tmp_path, {"models": MODELS}))
    eu = mq.UserContext(attributes={"status": "completed"})
    us = mq.UserContext(attributes={"status": "shipped"})
    query = mq.MetricQuery(explore_name="orders", metrics=["orders_n"])
    a, b = project.compile(query, user=eu), project.compile(query, user=us)
    assert "'completed'" in a.sql and "'shipped'" in b.sql
    assert project.compile(query, user=mq.UserContext(attributes={"status": "completed"})) is a


def test_relative_dates_without_now_are_never_cached(project: mq.Project) -> None:
    query = _query(
        filters={
            "dimensions": {
                "id": "g",
                "and": [
                    {
                        "id": "r",
                        "target": {"fieldId": "orders_order_date"},
                        "operator": "inThePast",
                        "values": [7],
                        "settings": {"unitOfTime": "days"},
                    }
                ],
            }
        }
    )
    assert project.compile(query) is not project.compile(query)
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert project.compile(query, now=now) is project.compile(query, now=now)
