"""Every route through real HTTP: results equal the library's, errors use Lightdash's envelope."""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Any

import pytest

import metricql as mq
from tests.conftest import SAMPLE
from tests.server.conftest import SAMPLE_UUID, SCRATCH_UUID, SECURED_UUID, Live

V1 = f"/api/v1/projects/{SAMPLE_UUID}"
V2 = f"/api/v2/projects/{SAMPLE_UUID}"
SECURED = f"/api/v1/projects/{SECURED_UUID}"
QUERY = {
    "exploreName": "orders",
    "dimensions": ["orders_status", "orders_order_date_month"],
    "metrics": ["orders_order_count", "orders_total_revenue"],
    "filters": {
        "dimensions": {
            "id": "g",
            "and": [
                {
                    "id": "r",
                    "target": {"fieldId": "orders_status"},
                    "operator": "notEquals",
                    "values": ["returned"],
                }
            ],
        }
    },
    "sorts": [
        {"fieldId": "orders_order_date_month", "descending": False},
        {"fieldId": "orders_status", "descending": False},
    ],
    "limit": 200,
    "tableCalculations": [],
}


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    return body["results"]


def error(response: Any, name: str, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "error"
    assert (body["error"]["name"], body["error"]["statusCode"]) == (name, status)
    assert body["error"]["message"]
    return dict(body["error"])


def raw_rows(result: mq.QueryResult) -> list[dict[str, Any]]:
    return [{k: mq.lightdash_raw(v) for k, v in r.items()} for r in result.rows]


def test_health_needs_no_token_and_lists_projects(live: Live) -> None:
    health = ok(live.client(None).get("/api/v1/health"))
    assert health["healthy"] and health["query"]["maxLimit"] == 5000
    assert health["query"]["maxPageSize"] == 1000
    projects = {p["projectUuid"]: p for p in health["projects"]}
    assert projects[SAMPLE_UUID] == {
        "projectUuid": SAMPLE_UUID,
        "name": "jaffle_shop",
        "explores": 3,
    }
    assert set(projects) == {SAMPLE_UUID, SECURED_UUID, SCRATCH_UUID}


@pytest.mark.parametrize(
    ("token", "scheme"),
    [(None, "ApiKey"), ("wrong", "ApiKey"), ("admin-token", "Basic"), ("", "ApiKey")],
)
def test_unauthenticated_requests_are_refused(live: Live, token: str | None, scheme: str) -> None:
    client = live.client(token, scheme)
    for path in ("/api/v1/org/projects", f"{V1}/explores", f"{V1}/explores/orders/compileQuery"):
        method = client.post if path.endswith("Query") else client.get
        error(
            method(path, json=QUERY) if method == client.post else method(path),
            "AuthorizationError",
            401,
        )


def test_bearer_tokens_work_too(live: Live) -> None:
    projects = ok(live.client("admin-token", "Bearer").get("/api/v1/org/projects"))
    assert {p["projectUuid"] for p in projects} == {SAMPLE_UUID, SECURED_UUID, SCRATCH_UUID}
    assert ok(live.client().get(V1))["name"] == "jaffle_shop"


def test_explores_list_only_what_the_user_may_see(live: Live) -> None:
    summaries = ok(live.client().get(f"{V1}/explores"))
    assert summaries == mq.explore_summaries(live.projects[SAMPLE_UUID].explores)
    analyst = [e["name"] for e in ok(live.client("analyst-token").get(f"{SECURED}/explores"))]
    finance = [e["name"] for e in ok(live.client("finance-token").get(f"{SECURED}/explores"))]
    assert (analyst, finance) == (["orders"], ["customers", "orders"])


def test_explore_is_lightdash_compiled_explore_json(live: Live) -> None:
    explore = ok(live.client().get(f"{V1}/explores/orders"))
    assert explore == mq.explore_to_dict(live.projects[SAMPLE_UUID].explore("orders"))
    # the analyst's copy of the secured explore lacks the field their role may not see
    mine = ok(live.client("analyst-token").get(f"{SECURED}/explores/orders"))
    assert "amount" not in mine["tables"]["orders"]["dimensions"]


def test_unknown_and_forbidden_explores(live: Live) -> None:
    err = error(live.client().get(f"{V1}/explores/ordrs"), "NotExistsError", 404)
    assert err["data"]["hint"] == "did you mean 'orders'?"
    error(
        live.client().post(f"{V1}/explores/ordrs/compileQuery", json=QUERY), "NotExistsError", 404
    )
    error(live.client("analyst-token").get(f"{SECURED}/explores/customers"), "ForbiddenError", 403)
    missing = "/api/v1/projects/00000000-0000-0000-0000-000000000000/explores"
    error(live.client().get(missing), "NotExistsError", 404)


def test_compile_query_returns_the_library_sql(live: Live) -> None:
    got = ok(live.client().post(f"{V1}/explores/orders/compileQuery", json=QUERY))
    want = live.projects[SAMPLE_UUID].compile(mq.MetricQuery.model_validate(QUERY)).sql
    assert got["query"] == want


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({**QUERY, "metrics": ["orders_order_cnt"]}, "FieldReferenceError"),
        ({**QUERY, "dimensions": "not-a-list"}, "ParameterError"),
        ({**QUERY, "limit": 5001}, "ParameterError"),
        (
            {
                **QUERY,
                "filters": {
                    "dimensions": {
                        "and": [
                            {
                                "target": {"fieldId": "orders_status"},
                                "operator": "inThePast",
                                "values": [1],
                            }
                        ]
                    }
                },
            },
            "ParameterError",
        ),
        ([1, 2], "ParameterError"),
    ],
)
def test_bad_queries_are_400(live: Live, body: Any, name: str) -> None:
    error(live.client().post(f"{V1}/explores/orders/compileQuery", json=body), name, 400)


def test_invalid_json_is_400(live: Live) -> None:
    response = live.client().post(
        f"{V1}/explores/orders/runQuery",
        content=b"{nope",
        headers={"content-type": "application/json"},
    )
    error(response, "ParameterError", 400)


def test_run_query_rows_equal_the_library(live: Live) -> None:
    got = ok(live.client().post(f"{V1}/explores/orders/runQuery", json=QUERY))
    want = live.projects[SAMPLE_UUID].run(mq.MetricQuery.model_validate(QUERY))
    assert [{k: v["value"]["raw"] for k, v in r.items()} for r in got["rows"]] == raw_rows(want)
    first = got["rows"][0]["orders_order_count"]["value"]
    assert first["formatted"] == f"{want.rows[0]['orders_order_count']:,}"
    assert got["fields"]["orders_total_revenue"]["label"] == "Total revenue"
    assert got["fields"]["orders_status"]["fieldType"] == "dimension"
    assert got["metricQuery"]["filters"] == QUERY["filters"]  # echoed as Lightdash JSON


def test_forbidden_fields_are_403(live: Live) -> None:
    body = {"exploreName": "orders", "metrics": ["orders_revenue"], "limit": 10}
    error(
        live.client("analyst-token").post(f"{SECURED}/explores/orders/runQuery", json=body),
        "ForbiddenError",
        403,
    )
    rows = ok(live.client("finance-token").post(f"{SECURED}/explores/orders/runQuery", json=body))[
        "rows"
    ]
    user = mq.UserContext(attributes={"status": "completed", "role": ("finance",)})
    want = live.projects[SECURED_UUID].run(mq.MetricQuery.model_validate(body), user=user)
    assert rows[0]["orders_revenue"]["value"]["raw"] == pytest.approx(
        float(want.rows[0]["orders_revenue"])
    )


def _wait_ready(client: Any, query_uuid: str, **params: Any) -> dict[str, Any]:
    for _ in range(200):
        page = ok(client.get(f"{V2}/query/{query_uuid}", params=params))
        if page["status"] != "pending":
            return dict(page)
        time.sleep(0.05)
    raise AssertionError("the query never finished")


def test_v2_query_pages_add_up_to_the_library_rows(live: Live) -> None:
    client = live.client()
    submitted = ok(client.post(f"{V2}/query/metric-query", json={"query": QUERY, "context": "api"}))
    assert submitted["fields"]["orders_order_count"]["label"] == "Order count"
    want = raw_rows(live.projects[SAMPLE_UUID].run(mq.MetricQuery.model_validate(QUERY)))
    first = _wait_ready(client, submitted["queryUuid"], page=1, pageSize=7)
    assert first["status"] == "ready" and first["totalResults"] == len(want)
    assert first["totalPageCount"] == -(-len(want) // 7) and first["nextPage"] == 2
    assert first["columns"]["orders_order_count"] == {
        "reference": "orders_order_count",
        "type": "number",
    }
    rows = []
    for page in range(1, first["totalPageCount"] + 1):
        rows += ok(
            client.get(f"{V2}/query/{submitted['queryUuid']}", params={"page": page, "pageSize": 7})
        )["rows"]
    assert [{k: v["value"]["raw"] for k, v in r.items()} for r in rows] == want


def test_v2_results_belong_to_their_user(live: Live) -> None:
    submitted = ok(live.client().post(f"{V2}/query/metric-query", json={"query": QUERY}))
    error(
        live.client("analyst-token").get(f"{V2}/query/{submitted['queryUuid']}"),
        "NotExistsError",
        404,
    )
    error(live.client().get(f"{V2}/query/nope"), "NotExistsError", 404)
    error(
        live.client().get(f"{V2}/query/{submitted['queryUuid']}", params={"pageSize": 0}),
        "ParameterError",
        400,
    )
    ok(live.client().post(f"{V2}/query/{submitted['queryUuid']}/cancel"))
    assert ok(live.client().get(f"{V2}/query/{submitted['queryUuid']}"))["status"] == "cancelled"


def test_v2_bad_query_is_400_at_submit(live: Live) -> None:
    bad = {"query": {**QUERY, "dimensions": ["orders_nope"]}}
    error(live.client().post(f"{V2}/query/metric-query", json=bad), "FieldReferenceError", 400)


def test_calculate_total_equals_library_totals(live: Live) -> None:
    body = {"explore": "orders", "metricQuery": QUERY}
    got = ok(live.client().post(f"{V1}/calculate-total", json=body))
    want = live.projects[SAMPLE_UUID].totals(mq.MetricQuery.model_validate(QUERY))
    assert got.keys() == want.keys()
    assert got == pytest.approx({k: float(v) for k, v in want.items()})


def _csv(
    live: Live, body: dict[str, Any], token: str = "admin-token"
) -> tuple[dict[str, Any], str]:
    client = live.client(token)
    job = ok(client.post(f"{V1}/explores/orders/downloadCsv", json=body))["jobId"]
    for _ in range(200):
        status = ok(client.get(f"{V1}/csv/{job}"))
        if status["status"] != "started":
            break
        time.sleep(0.05)
    assert status["status"] == "completed", status
    scheduler = ok(client.get(f"/api/v1/schedulers/job/{job}/status"))
    assert scheduler["status"] == "completed" and scheduler["details"]["fileUrl"] == status["url"]
    response = client.get(status["url"])
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    error(live.client("analyst-token").get(status["url"]), "NotExistsError", 404)
    return status, response.content.decode("utf-8")


def test_csv_download_equals_the_library_csv(live: Live) -> None:
    options = {
        "onlyRaw": False,
        "showTableNames": True,
        "columnOrder": ["orders_total_revenue"],
        "customLabels": {"orders_status": "State"},
        "hiddenFields": ["orders_order_count"],
    }
    status, text = _csv(live, {**QUERY, **options})
    result = live.projects[SAMPLE_UUID].run(mq.MetricQuery.model_validate(QUERY))
    want = io.StringIO()
    mq.write_csv(
        result.fields,
        result.rows,
        want,
        mq.CsvOptions(
            show_table_names=True,
            column_order=["orders_total_revenue"],
            custom_labels={"orders_status": "State"},
            hidden_fields=["orders_order_count"],
        ),
    )
    assert text == want.getvalue() and not status["truncated"]
    header = next(csv.reader(io.StringIO(text[1:])))
    assert header == ["State", "Orders Order date month", "Orders Total revenue"]


def test_csv_limits(live: Live) -> None:
    _, text = _csv(live, {**QUERY, "csvLimit": 5, "onlyRaw": True})
    assert len(text.strip().splitlines()) == 1 + 5
    _, text = _csv(live, {**QUERY, "limit": 3, "csvLimit": None, "onlyRaw": True})
    assert len(text.strip().splitlines()) > 1 + 3  # null: all rows up to the cells cap
    empty = {**QUERY, "dimensions": [], "metrics": []}
    error(
        live.client().post(f"{V1}/explores/orders/downloadCsv", json=empty), "ParameterError", 400
    )


def test_raw_sql_needs_the_permission_and_is_read_only(live: Live) -> None:
    sql = "SELECT status, COUNT(*) AS n FROM main.orders GROUP BY 1 ORDER BY 1"
    error(
        live.client("analyst-token").post(f"{V1}/sqlQuery", json={"sql": sql}),
        "ForbiddenError",
        403,
    )
    got = ok(live.client().post(f"{V1}/sqlQuery", json={"sql": sql}))
    want = live.projects[SAMPLE_UUID].run_sql(sql)
    assert got["rows"] == raw_rows(want) and got["fields"] == {
        "status": {"type": "string"},
        "n": {"type": "number"},
    }
    runner = ok(live.client().post(f"{V1}/sqlRunner/run", json={"sql": sql, "limit": 2}))
    assert runner["rows"] == got["rows"][:2]
    error(
        live.client().post(f"{V1}/sqlQuery", json={"sql": "DROP TABLE main.orders"}),
        "ForbiddenError",
        403,
    )
    error(live.client().post(f"{V1}/sqlQuery", json={"nope": 1}), "ParameterError", 400)


def test_set_explores_replaces_a_projects_explores(live: Live) -> None:
    scratch = f"/api/v1/projects/{SCRATCH_UUID}"
    explore = mq.explore_to_dict(live.projects[SCRATCH_UUID].explore("orders"))
    renamed = {**explore, "name": "orders_copy", "label": "Orders copy"}
    error(
        live.client("analyst-token").put(f"{scratch}/explores", json=[renamed]),
        "ForbiddenError",
        403,
    )
    error(live.client().put(f"{scratch}/explores", json=[{"name": "x"}]), "ParameterError", 400)
    ok(live.client().put(f"{scratch}/explores", json=[renamed]))
    assert [e["name"] for e in ok(live.client().get(f"{scratch}/explores"))] == ["orders_copy"]
    body = {**QUERY, "exploreName": "orders_copy"}
    got = ok(live.client().post(f"{scratch}/explores/orders_copy/runQuery", json=body))["rows"]
    want = raw_rows(live.projects[SAMPLE_UUID].run(mq.MetricQuery.model_validate(QUERY)))
    assert [{k: v["value"]["raw"] for k, v in r.items()} for r in got] == want


def test_validate_reports_broken_charts(live: Live) -> None:
    client = live.client()
    error(live.client("analyst-token").post(f"{SECURED}/validate"), "ForbiddenError", 403)
    job = ok(client.post(f"{SECURED}/validate"))["jobId"]
    for _ in range(200):
        status = ok(client.get(f"/api/v1/schedulers/job/{job}/status"))
        if status["status"] != "started":
            break
        time.sleep(0.05)
    assert status == {"jobId": job, "status": "completed", "details": {"validationCount": 1}}
    (result,) = ok(client.get(f"{SECURED}/validate"))
    assert (result["errorType"], result["fieldName"], result["name"]) == (
        "dimension",
        "orders_statuss",
        "Old chart",
    )
    assert result["suggestion"] == "did you mean 'orders_status'?"
    assert result["projectUuid"] == SECURED_UUID and result["source"] == "chart"


def test_request_size_is_capped(live: Live) -> None:
    big = {**QUERY, "padding": "x" * 300_000}
    error(
        live.client().post(f"{V1}/explores/orders/compileQuery", json=big),
        "PayloadTooLargeError",
        413,
    )

    def chunks() -> Any:  # no content-length: the cap applies while the body streams in
        for _ in range(30):
            yield b" " * 10_000

    response = live.client().post(
        f"{V1}/explores/orders/compileQuery",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    error(response, "PayloadTooLargeError", 413)


def test_unknown_routes_use_the_error_envelope(live: Live) -> None:
    error(live.client().get("/api/v1/nope"), "NotFoundError", 404)
    error(live.client().delete(f"{V1}/explores/orders"), "MethodNotAllowedError", 405)


def test_access_log_is_one_json_line_per_request(
    live: Live, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="metricql.server.access"):
        live.client("analyst-token").get(f"{V1}/explores")
        live.client(None).get(f"{V1}/explores")
        time.sleep(0.2)  # the line is written once the response has gone out
    lines = [
        json.loads(r.getMessage()) for r in caplog.records if r.name == "metricql.server.access"
    ]
    assert [(e["status"], e["user"], e["path"]) for e in lines[-2:]] == [
        (200, "analyst@example.com", f"{V1}/explores"),
        (401, None, f"{V1}/explores"),
    ]
    assert all(e["ms"] >= 0 and e["method"] == "GET" for e in lines[-2:])


def test_sample_project_is_the_one_served(live: Live) -> None:
    assert live.projects[SAMPLE_UUID].root == SAMPLE


def test_v2_pivoted_query_has_pivot_details(live: Live) -> None:
    """pivotConfiguration and dateZoom beside the query, as Lightdash's client sends them."""
    client = live.client()
    pivot = {
        "indexColumn": {"reference": "orders_order_date_month", "type": "time"},
        "valuesColumns": [{"reference": "orders_order_count", "aggregation": "sum"}],
        "groupByColumns": [{"reference": "orders_status"}],
        "sortBy": [],
    }
    body = {"query": QUERY, "pivotConfiguration": pivot, "dateZoom": {"granularity": "Year"}}
    submitted = ok(client.post(f"{V2}/query/metric-query", json=body))
    library = live.projects[SAMPLE_UUID].run(
        mq.MetricQuery.model_validate(
            {**QUERY, "pivotConfiguration": pivot, "dateZoom": {"granularity": "Year"}}
        )
    )
    page = _wait_ready(client, submitted["queryUuid"], page=1, pageSize=500)
    assert page["pivotDetails"] == library.pivot_details()
    statuses = {r["orders_status"] for r in library.rows}
    assert page["pivotDetails"]["totalColumnCount"] == len(statuses) > 1
    assert "returned" not in statuses and None in statuses  # notEquals keeps NULL
    months = {r["orders_order_date_month"]["value"]["raw"] for r in page["rows"]} - {None}
    assert months and all(m[4:].startswith("-01-01") for m in months)  # zoomed to years
