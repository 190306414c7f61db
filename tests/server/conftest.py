"""A real server for the route tests: uvicorn on a free 127.0.0.1 port, in a thread, with an
httpx client per token. Three projects: the sample, a secured one (attributes, content to
validate) and a scratch copy of the sample that tests may replace explores of."""

from __future__ import annotations

import shutil
import socket
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import metricql as mq
from tests.conftest import SAMPLE
from tests.helpers import make_project

pytest.importorskip(
    "fastapi", reason="the server tests need the server extra (pip install -e .[dev])"
)
httpx = pytest.importorskip("httpx", reason="the server tests need httpx (pip install -e .[dev])")
uvicorn = pytest.importorskip("uvicorn", reason="the server tests need uvicorn")

from metricql.server import Settings, create_app  # noqa: E402

SAMPLE_UUID = "3f9c1f4e-8a7b-4c1d-9e2f-000000000001"
SECURED_UUID = "3f9c1f4e-8a7b-4c1d-9e2f-000000000002"
SCRATCH_UUID = "3f9c1f4e-8a7b-4c1d-9e2f-000000000003"
TOKENS: dict[str, dict[str, Any]] = {
    "admin-token": {"email": "admin@example.com", "custom_sql": True, "manage": True},
    "analyst-token": {
        "email": "analyst@example.com",
        "attributes": {"status": "completed", "role": "analyst"},
    },
    "finance-token": {
        "email": "finance@example.com",
        "attributes": {"status": "completed", "role": ["finance"], "can_see_pii": "yes"},
    },
}
SECURED_MODELS = """
models:
  - name: customers
    meta:
      required_attributes: {can_see_pii: "yes"}
      primary_key: customer_id
    columns:
      - name: customer_id
        meta:
          dimension: {type: number}
          metrics:
            customers: {type: count}
      - name: country
        meta: {dimension: {type: string}}
  - name: orders
    meta:
      primary_key: order_id
      sql_filter: ${TABLE}.status = ${lightdash.attributes.status}
      joins:
        - join: customers
          sql_on: ${orders.customer_id} = ${customers.customer_id}
          relationship: many-to-one
    columns:
      - name: order_id
        meta:
          dimension: {type: number}
          metrics:
            n: {type: count}
      - name: customer_id
        meta: {dimension: {type: number}}
      - name: status
        meta: {dimension: {type: string}}
      - name: amount
        meta:
          dimension:
            type: number
            required_attributes: {role: [finance, admin]}
          metrics:
            revenue: {type: sum}
"""
BROKEN_CHART = """
name: Old chart
slug: old-chart
tableName: orders
metricQuery:
  exploreName: orders
  dimensions: [orders_statuss]
  metrics: [orders_n]
  limit: 10
"""


@dataclass
class Live:
    """A running server: its base URL, projects, and one client per token."""

    url: str
    projects: dict[str, mq.Project]
    server: Any

    def client(self, token: str | None = "admin-token", scheme: str = "ApiKey") -> Any:
        headers = {"Authorization": f"{scheme} {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(app: Any) -> Iterator[tuple[str, Any]]:
    """Serve `app` with uvicorn on a free loopback port until the block ends."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def secured_project(root: Path) -> mq.Project:
    """A project whose explores and fields need user attributes, with a broken chart."""
    make_project(root, {"models": SECURED_MODELS})
    (root / "seeds").mkdir()
    for name in ("orders", "customers"):
        shutil.copy(SAMPLE / "seeds" / f"{name}.csv", root / "seeds")
    (root / "lightdash" / "charts").mkdir(parents=True)
    (root / "lightdash" / "charts" / "old.yml").write_text(textwrap.dedent(BROKEN_CHART))
    return mq.load_project(root)


def scratch_project(root: Path) -> mq.Project:
    """A copy of the sample project with its own DuckDB file."""
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("*.duckdb*", "target"))
    return mq.load_project(root)


@pytest.fixture(scope="package")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    projects = {
        SAMPLE_UUID: mq.load_project(SAMPLE),
        SECURED_UUID: secured_project(tmp_path_factory.mktemp("secured")),
        SCRATCH_UUID: scratch_project(tmp_path_factory.mktemp("scratch") / "p"),
    }
    settings = Settings(max_request_bytes=200_000, max_limit=5000, max_page_size=1000)
    app = create_app(projects, auth=TOKENS, settings=settings)
    with running(app) as (url, server):
        yield Live(url, projects, server)
