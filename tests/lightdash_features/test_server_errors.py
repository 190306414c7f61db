"""Over HTTP: the explores list marks errored explores, as Lightdash's does; parameters reach
the SQL from a v1 body's `parameters` and beside a v2 body's query."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import metricql as mq

pytest.importorskip("fastapi", reason="the server tests need the server extra")
httpx = pytest.importorskip("httpx", reason="the server tests need httpx")

from metricql.server import create_app  # noqa: E402
from tests.server.conftest import running  # noqa: E402

UUID = "3f9c1f4e-8a7b-4c1d-9e2f-0000000000f1"


def test_explores_route_lists_errored_explores(features: mq.Project) -> None:
    app = create_app({UUID: features}, auth={"t": {"email": "a@example.com"}})
    with running(app) as (url, _):
        headers = {"Authorization": "ApiKey t"}
        body = httpx.get(f"{url}/api/v1/projects/{UUID}/explores", headers=headers).json()
    assert body["status"] == "ok"
    rows = {row["name"]: row for row in body["results"]}
    assert sorted(rows) == ["customers", "large_orders", "orders", "orders_with_refunds", "refunds"]
    assert "errors" not in rows["orders"]
    (error,) = rows["refunds"]["errors"]
    assert error["type"] == "METADATA_PARSE_ERROR"
    assert "sql_from of model 'refunds' does not parse" in error["message"]


def test_parameters_over_http(features: mq.Project) -> None:
    app = create_app({UUID: features}, auth={"t": {"email": "a@example.com"}})
    query = {"exploreName": "orders", "dimensions": ["orders_is_large"], "metrics": [], "limit": 5}
    with running(app) as (url, _):
        client = httpx.Client(base_url=url, headers={"Authorization": "ApiKey t"}, timeout=30)
        v1 = client.post(
            f"/api/v1/projects/{UUID}/explores/orders/compileQuery",
            json={**query, "parameters": {"min_amount": 33}},
        ).json()
        v2 = client.post(
            f"/api/v2/projects/{UUID}/query/metric-query",
            json={"query": query, "parameters": {"min_amount": 44}},
        ).json()
        bad = client.post(
            f"/api/v1/projects/{UUID}/explores/orders/compileQuery",
            json={**query, "parameters": {"min_amount": "x); DROP TABLE t; --"}},
        )
    assert ">= 33" in v1["results"]["query"] and v1["results"]["parameterReferences"] == [
        "min_amount"
    ]
    assert v2["results"]["usedParametersValues"] == {"min_amount": 44}
    assert bad.status_code == 400 and "must be a number" in bad.json()["error"]["message"]


def test_calculate_total_takes_parameters(tmp_path: Path) -> None:
    from tests.lightdash_features.conftest import FEATURES

    root = tmp_path / "p"
    shutil.copytree(FEATURES, root, ignore=shutil.ignore_patterns("*.duckdb*"))
    project = mq.load_project(root)
    project.seed()  # into the copy's own DuckDB file
    rule = {"id": "r", "target": {"fieldId": "customers_country"}, "operator": "equals",
            "values": ["${lightdash.parameters.region}"]}  # fmt: skip
    query = {
        "exploreName": "orders",
        "dimensions": ["orders_is_large"],
        "metrics": ["orders_revenue_in_statuses"],
        "filters": {"dimensions": {"id": "g", "and": [rule]}},
    }
    values = {"region": "US", "statuses": ["completed", "returned"]}
    app = create_app({UUID: project}, auth={"t": {"email": "a@example.com"}})
    with running(app) as (url, _):
        client = httpx.Client(base_url=url, headers={"Authorization": "ApiKey t"}, timeout=30)
        body = {"explore": "orders", "metricQuery": query, "parameters": values}
        got = client.post(f"/api/v1/projects/{UUID}/calculate-total", json=body).json()
    _, rows = project.warehouse.execute(
        "SELECT SUM(o.amount) FROM main.orders o JOIN main.customers c USING (customer_id) "
        "WHERE c.country = 'US' AND o.status IN ('completed', 'returned')"
    )
    want = rows[0][0]
    assert got["status"] == "ok", got
    assert got["results"]["orders_revenue_in_statuses"] == pytest.approx(float(want))
