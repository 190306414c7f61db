"""Per-user concurrency, query timeouts and job expiry: the pool's limits, over HTTP."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import metricql as mq
from metricql.server import Settings, create_app
from tests.conftest import SAMPLE
from tests.server.conftest import running
from tests.server.test_routes import QUERY, error, ok

UUID = "3f9c1f4e-8a7b-4c1d-9e2f-0000000000aa"


class Gate:
    """Makes `project.run` wait until released, so requests pile up deterministically."""

    def __init__(self, project: mq.Project) -> None:
        self.open = threading.Event()
        self.entered = threading.Semaphore(0)
        real = project.run

        def run(*args: Any, **kwargs: Any) -> Any:
            self.entered.release()
            self.open.wait(timeout=30)
            return real(*args, **kwargs)

        project.run = run  # type: ignore[method-assign]


def _client(url: str, token: str = "t") -> Any:
    import httpx

    return httpx.Client(base_url=url, headers={"Authorization": f"ApiKey {token}"}, timeout=30)


def test_one_user_may_run_only_so_many_queries_at_once() -> None:
    project = mq.load_project(SAMPLE)
    gate = Gate(project)
    settings = Settings(max_queries_per_user=2)
    tokens = {"t": {"email": "a@x.io"}, "other": {"email": "b@x.io"}}
    with running(create_app({UUID: project}, auth=tokens, settings=settings)) as (url, _):
        path = f"/api/v1/projects/{UUID}/explores/orders/runQuery"
        with ThreadPoolExecutor(2) as pool:
            slow = [pool.submit(_client(url).post, path, json=QUERY) for _ in range(2)]
            for _ in range(2):
                assert gate.entered.acquire(timeout=10)
            error(_client(url).post(path, json=QUERY), "TooManyRequestsError", 429)
            # another user is not held up by the first one's queries
            other = ThreadPoolExecutor(1).submit(_client(url, "other").post, path, json=QUERY)
            assert gate.entered.acquire(timeout=10)
            gate.open.set()
            assert all(f.result().status_code == 200 for f in [*slow, other])
        ok(_client(url).post(path, json=QUERY))  # slots are free again


def test_a_slow_query_times_out_with_504() -> None:
    project = mq.load_project(SAMPLE)
    gate = Gate(project)
    settings = Settings(query_timeout=1.0)
    with running(create_app({UUID: project}, auth={"t": {}}, settings=settings)) as (url, _):
        path = f"/api/v1/projects/{UUID}/explores/orders/runQuery"
        err = error(_client(url).post(path, json=QUERY), "TimeoutError", 504)
        assert "1 s" in err["message"]
        v2 = ok(
            _client(url).post(f"/api/v2/projects/{UUID}/query/metric-query", json={"query": QUERY})
        )
        time.sleep(1.3)
        page = ok(_client(url).get(f"/api/v2/projects/{UUID}/query/{v2['queryUuid']}"))
        assert page["status"] == "error" and "did not finish" in page["error"]
        gate.open.set()


def test_expired_results_are_gone() -> None:
    settings = Settings(result_ttl=0.0, max_jobs=2)
    project = mq.load_project(SAMPLE)
    with running(create_app({UUID: project}, auth={"t": {}}, settings=settings)) as (url, _):
        client = _client(url)
        first = ok(
            client.post(f"/api/v2/projects/{UUID}/query/metric-query", json={"query": QUERY})
        )
        time.sleep(0.3)
        for _ in range(2):  # later jobs push the finished, expired one out
            ok(client.post(f"/api/v2/projects/{UUID}/query/metric-query", json={"query": QUERY}))
        error(
            client.get(f"/api/v2/projects/{UUID}/query/{first['queryUuid']}"), "NotExistsError", 404
        )


def test_warehouse_errors_show_only_a_public_message(tmp_path: Any) -> None:
    project = mq.load_project(SAMPLE)

    def broken(*_: Any, **__: Any) -> Any:
        raise mq.WarehouseError(
            "duckdb: Catalog Error: table secret_internal_name missing",
            hint="x",
            sql="SELECT secret",
        )

    project.run = broken  # type: ignore[method-assign]
    with running(create_app({UUID: project}, auth={"t": {}})) as (url, _):
        err = error(
            _client(url).post(f"/api/v1/projects/{UUID}/explores/orders/runQuery", json=QUERY),
            "WarehouseQueryError",
            500,
        )
        assert "secret" not in str(err)


def test_cli_defaults_match_the_settings() -> None:
    from metricql.cli import _SERVE_LIMITS

    fields = {
        "--max-request-bytes": "max_request_bytes",
        "--max-limit": "max_limit",
        "--page-size": "max_page_size",
        "--max-queries-per-user": "max_queries_per_user",
        "--query-timeout": "query_timeout",
        "--workers": "workers",
        "--shutdown-grace": "shutdown_grace",
    }
    defaults = Settings()
    assert {flag: default for flag, _, default, _ in _SERVE_LIMITS} == {
        flag: getattr(defaults, name) for flag, name in fields.items()
    }
