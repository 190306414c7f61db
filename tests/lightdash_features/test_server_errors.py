"""The server's explores list marks errored explores, as Lightdash's does."""

from __future__ import annotations

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
    assert sorted(rows) == ["customers", "orders", "orders_with_refunds", "refunds"]
    assert "errors" not in rows["orders"]
    (error,) = rows["refunds"]["errors"]
    assert error["type"] == "METADATA_PARSE_ERROR"
    assert "sql_from of model 'refunds' does not parse" in error["message"]
