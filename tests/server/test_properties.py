"""Random valid queries give identical rows through HTTP (v1 runQuery and the v2 pages) and
through the library."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import metricql as mq
from tests.server.conftest import SAMPLE_UUID, Live
from tests.test_properties import queries

V1 = f"/api/v1/projects/{SAMPLE_UUID}"
V2 = f"/api/v2/projects/{SAMPLE_UUID}"


# Their value depends on the order of tied rows, which differs from one run to the next.
ORDER_DEPENDENT = {"running_total", "percent_of_previous"}


def _norm(value: Any) -> Any:
    # DuckDB sums floats in thread order: the last bits differ from one run to the next.
    return round(value, 6) if isinstance(value, float) else value


def _raw(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [tuple(sorted((k, _norm(v["value"]["raw"])) for k, v in r.items())) for r in rows]


def _library(result: mq.QueryResult) -> list[tuple[Any, ...]]:
    return [
        tuple(sorted((k, _norm(mq.lightdash_raw(v))) for k, v in r.items())) for r in result.rows
    ]


def _deterministic(project: mq.Project, query: mq.MetricQuery) -> mq.MetricQuery:
    """The query without a limit (which cuts among ties) and order-dependent metrics."""
    explore = project.explore(query.explore_name)
    metrics = [m for m in query.metrics if explore.metrics[m].type.value not in ORDER_DEPENDENT]
    if not metrics and not query.dimensions:
        metrics = [next(iter(explore.metrics))]
    sorts = [s for s in query.sorts if s.field_id in {*query.dimensions, *metrics}]
    return query.model_copy(
        update={"metrics": tuple(metrics), "sorts": tuple(sorts), "limit": None}
    )


def _v2_rows(client: Any, body: dict[str, Any]) -> list[dict[str, Any]]:
    query_uuid = client.post(f"{V2}/query/metric-query", json={"query": body}).json()["results"][
        "queryUuid"
    ]
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        results = client.get(
            f"{V2}/query/{query_uuid}", params={"page": page, "pageSize": 13}
        ).json()["results"]
        if results["status"] == "pending":
            time.sleep(0.02)
            continue
        rows += results["rows"]
        if page >= results["totalPageCount"]:
            return rows
        page += 1


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_queries_give_the_same_rows_over_http(live: Live, data: st.DataObject) -> None:
    project = live.projects[SAMPLE_UUID]
    query = _deterministic(project, data.draw(queries(project)))
    body = query.model_dump(mode="json", by_alias=True)
    expected = project.run(query)
    assume(len(expected.rows) < 5000)  # the server caps a missing limit at its maximum
    want = Counter(_library(expected))  # unordered: ties may fall either way
    client = live.client()
    response = client.post(f"{V1}/explores/{query.explore_name}/runQuery", json=body)
    assert response.status_code == 200, response.text
    assert Counter(_raw(response.json()["results"]["rows"])) == want
    assert Counter(_raw(_v2_rows(client, body))) == want
