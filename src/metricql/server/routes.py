"""The query routes: compile, run (v1 and the v2 pair), totals, CSV downloads, raw SQL and
content validation. Each parses its body, calls the public `metricql` API in the job pool,
and shapes Lightdash's response; nothing here knows how SQL is built.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import ValidationError

import metricql as mq
from metricql.server.auth import Principal
from metricql.server.jobs import Job, Settings
from metricql.server.requests import caller, json_body, require, served, state_of
from metricql.server.schemas import (
    ApiError,
    CsvRequest,
    SqlRequest,
    TotalRequest,
    columns,
    invalid,
    items_map,
    metric_query,
    ok,
)

__all__ = ["query_routes"]

P = "/api/v1/projects/{project_uuid}"
_JOB_STATES = {"pending": "started", "ready": "completed", "error": "error", "cancelled": "error"}


def query_routes() -> APIRouter:
    """The routes of this module (see the module docstring)."""
    router = APIRouter()
    router.add_api_route(P + "/explores/{explore_id}/compileQuery", compile_query, methods=["POST"])
    router.add_api_route(P + "/explores/{explore_id}/runQuery", run_query, methods=["POST"])
    router.add_api_route("/api/v2" + P[7:] + "/query/metric-query", submit_query, methods=["POST"])
    router.add_api_route("/api/v2" + P[7:] + "/query/{query_uuid}", query_page, methods=["GET"])
    router.add_api_route("/api/v2" + P[7:] + "/query/{query_uuid}/cancel", cancel, methods=["POST"])
    router.add_api_route(P + "/calculate-total", calculate_total, methods=["POST"])
    router.add_api_route(P + "/explores/{explore_id}/downloadCsv", download_csv, methods=["POST"])
    router.add_api_route(P + "/csv/{job_id}", csv_status, methods=["GET"])
    router.add_api_route(P + "/csv/{job_id}/file", csv_file, methods=["GET"])
    router.add_api_route("/api/v1/schedulers/job/{job_id}/status", job_status, methods=["GET"])
    router.add_api_route(P + "/sqlQuery", sql_query, methods=["POST"])
    router.add_api_route(P + "/sqlRunner/run", sql_query, methods=["POST"])
    router.add_api_route(P + "/validate", validate, methods=["POST"])
    router.add_api_route(P + "/validate", validation_results, methods=["GET"])
    return router


async def compile_query(request: Request, project_uuid: str, explore_id: str) -> JSONResponse:
    principal, project, query = await _query_request(request, project_uuid, explore_id)
    compiled = await _run(request, principal, lambda: project.compile(query, user=principal.user))
    used = list(compiled.parameters)
    return JSONResponse(ok({"query": compiled.sql, "parameterReferences": used}))


async def run_query(request: Request, project_uuid: str, explore_id: str) -> JSONResponse:
    body = await json_body(request)
    principal, project, query = await _query_request(request, project_uuid, explore_id, body)

    def work() -> dict[str, Any]:
        result = project.run(query, user=principal.user)
        return {
            "rows": mq.lightdash_rows(result.rows, result.fields),
            "fields": items_map(result.fields),
            "metricQuery": _echo(body, query),
            "cacheMetadata": {"cacheHit": False},
        }

    return JSONResponse(ok(await _run(request, principal, work)))


async def submit_query(request: Request, project_uuid: str) -> JSONResponse:
    body = await json_body(request)
    inner = body.get("query") if isinstance(body, dict) else None
    if isinstance(inner, dict) and isinstance(body, dict):  # Lightdash sends these beside it
        inner = {**inner, **{k: body[k] for k in ("dateZoom", "pivotConfiguration") if k in body}}
    principal, project, query = await _query_request(request, project_uuid, None, inner)
    values = body.get("parameters") if isinstance(body, dict) else None
    params = values if isinstance(values, dict) else None  # v2 bodies carry them beside the query
    compiled = await _run(
        request, principal, lambda: project.compile(query, user=principal.user, parameters=params)
    )
    job = state_of(request).jobs.submit(
        principal.key,
        "query",
        lambda: project.run(query, user=principal.user, parameters=params),
        project=project_uuid,
    )
    return JSONResponse(
        ok(
            {
                "queryUuid": job.id,
                "fields": items_map(compiled.fields),
                "metricQuery": _echo(inner, query),
                "warnings": [{"message": w} for w in compiled.warnings],
                "cacheMetadata": {"cacheHit": False},
                "parameterReferences": list(compiled.parameters),
                "usedParametersValues": {
                    k: list(v) if isinstance(v, tuple) else v
                    for k, v in compiled.parameters.items()
                },
                "resolvedTimezone": query.timezone or "UTC",
            }
        )
    )


async def query_page(request: Request, project_uuid: str, query_uuid: str) -> JSONResponse:
    principal = caller(request)
    state = state_of(request)
    job = _own_job(request, principal, query_uuid, project_uuid)
    status, value = job.state(state.settings.query_timeout)
    if status != "ready":
        out: dict[str, Any] = {"queryUuid": job.id, "status": status}
        if status == "error":
            out["error"] = value.message
        return JSONResponse(ok(out))
    page, size = _paging(request, state.settings)
    result: mq.QueryResult = value
    start = dt.datetime.now()
    chunk = result.rows[(page - 1) * size : page * size]
    rows = await _run(request, principal, lambda: mq.lightdash_rows(chunk, result.fields))
    total = len(result.rows)
    pages = math.ceil(total / size)
    out = {
        "queryUuid": job.id,
        "status": "ready",
        "rows": rows,
        "columns": columns(result.fields),
        "page": page,
        "pageSize": size,
        "totalResults": total,
        "totalPageCount": pages,
        "pivotDetails": result.pivot_details() if result.pivot is not None else None,
        "metadata": {"performance": _performance(job, start)},
    }
    out.update(
        {k: v for k, v in (("previousPage", page - 1), ("nextPage", page + 1)) if 1 <= v <= pages}
    )
    return JSONResponse(ok(out))


async def cancel(request: Request, project_uuid: str, query_uuid: str) -> JSONResponse:
    _own_job(request, caller(request), query_uuid, project_uuid).cancelled = True
    return JSONResponse(ok(None))


async def calculate_total(request: Request, project_uuid: str) -> JSONResponse:
    body = await json_body(request)
    try:
        total = TotalRequest.model_validate(body)
    except ValidationError as err:
        raise invalid(err, "{explore, metricQuery}") from None
    principal, project, query = await _query_request(
        request, project_uuid, total.explore, total.metric_query
    )
    params = total.parameters

    def work() -> dict[str, Any]:
        return project.totals(query, user=principal.user, parameters=params)

    totals = await _run(request, principal, work)
    return JSONResponse(ok({k: mq.lightdash_raw(v) for k, v in totals.items()}))


async def download_csv(request: Request, project_uuid: str, explore_id: str) -> JSONResponse:
    body = await json_body(request)
    principal, project, query = await _query_request(request, project_uuid, explore_id, body)
    try:
        options = CsvRequest.model_validate(body)
    except ValidationError as err:
        raise invalid(err, "a MetricQuery with onlyRaw, csvLimit, columnOrder, …") from None
    width = len(query.dimensions) + len(query.metrics) + len(query.table_calculations)
    if width == 0:
        raise ApiError("ParameterError", 400, "Query must have at least one dimension or metric")
    unset = "csvLimit" not in body
    cap = mq.csv_row_cap(options.csv_limit, query_limit=query.limit, columns=width, unset=unset)
    path = state_of(request).files / f"{uuid.uuid4().hex}.csv"
    csv = mq.CsvOptions(
        only_raw=options.only_raw,
        show_table_names=options.show_table_names,
        custom_labels=options.custom_labels,
        column_order=options.column_order,
        hidden_fields=options.hidden_fields,
        max_rows=cap,
    )

    def work() -> mq.CsvSummary:
        limited = query.model_copy(update={"limit": cap})
        # Streamed: one record batch of the warehouse's result in memory at a time, each row
        # written to disk as it is read (a download may be 100,000 cells).
        with (
            project.run(limited, user=principal.user, stream=True) as result,
            path.open("w", encoding="utf-8", newline="") as out,
        ):
            return mq.write_csv(result.fields, result.iter_rows(), out, csv)

    job = state_of(request).jobs.submit(
        principal.key,
        "csv",
        work,
        project=project_uuid,
        path=path,
        explore=explore_id,
        cleanup=lambda: path.unlink(missing_ok=True),
    )
    return JSONResponse(ok({"jobId": job.id}))


async def csv_status(request: Request, project_uuid: str, job_id: str) -> JSONResponse:
    job = _own_job(request, caller(request), job_id, project_uuid)
    status, value = job.state(state_of(request).settings.query_timeout)
    out: dict[str, Any] = {"status": _JOB_STATES[status], "url": None, "truncated": False}
    if status == "ready":
        out.update(url=_file_url(request, job), truncated=value.truncated)
    elif status == "error":
        out["error"] = value.message if value is not None else "cancelled"
    return JSONResponse(ok(out))


async def csv_file(request: Request, project_uuid: str, job_id: str) -> FileResponse:
    job = _own_job(request, caller(request), job_id, project_uuid)
    status, _ = job.state(state_of(request).settings.query_timeout)
    path: Path = job.meta["path"]
    if status != "ready" or not path.is_file():
        raise ApiError("NotExistsError", 404, f"the CSV of job {job_id!r} is not ready")
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d-%H-%M-%S-%f")[:-2]
    name = f"csv-{job.meta.get('explore', 'results')}-{stamp}.csv"
    return FileResponse(path, media_type="text/csv; charset=utf-8", filename=name)


async def job_status(request: Request, job_id: str) -> JSONResponse:
    principal = caller(request)
    job = state_of(request).jobs.job(job_id, principal.key)
    status, value = job.state(state_of(request).settings.query_timeout)
    details: dict[str, Any] = {}
    if status == "ready" and job.kind == "csv":
        details = {"fileUrl": _file_url(request, job), "truncated": value.truncated}
    elif status == "ready" and job.kind == "validate":
        details = {"validationCount": value}
    elif status in ("error", "cancelled"):
        details = {"error": value.message if value is not None else "cancelled"}
    return JSONResponse(ok({"jobId": job.id, "status": _JOB_STATES[status], "details": details}))


async def sql_query(request: Request, project_uuid: str) -> JSONResponse:
    principal = caller(request)
    require(principal.user.custom_sql, "run custom SQL")
    project = served(request, project_uuid).project
    try:
        body = SqlRequest.model_validate(await json_body(request))
    except ValidationError as err:
        raise invalid(err, "{sql, limit?}") from None
    limit = min(
        body.limit or state_of(request).settings.max_limit, state_of(request).settings.max_limit
    )

    def work() -> dict[str, Any]:
        result = project.run_sql(body.sql, limit=limit, user=principal.user)
        rows = [{c: mq.lightdash_raw(v) for c, v in r.items()} for r in result.rows]
        return {"rows": rows, "fields": {f.id: {"type": f.type} for f in result.fields}}

    return JSONResponse(ok(await _run(request, principal, work)))


async def validate(request: Request, project_uuid: str) -> JSONResponse:
    principal = caller(request)
    require(principal.manage, "validate a project's content")
    target = served(request, project_uuid)
    registry = state_of(request).registry

    def work() -> int:
        problems = target.project.validate_content(target.content) if target.content else []
        now = dt.datetime.now(dt.timezone.utc).isoformat()
        rows = tuple(
            {
                **p.to_dict(),
                "validationId": i + 1,
                "validationUuid": str(uuid.uuid4()),
                "createdAt": now,
                "projectUuid": project_uuid,
                "chartViews": 0,
            }
            for i, p in enumerate(problems)
        )
        registry.update(project_uuid, validation=rows)
        return len(rows)

    job = state_of(request).jobs.submit(principal.key, "validate", work, project=project_uuid)
    return JSONResponse(ok({"jobId": job.id}))


async def validation_results(request: Request, project_uuid: str) -> JSONResponse:
    principal = caller(request)
    require(principal.manage, "read a project's validation results")
    return JSONResponse(ok(list(served(request, project_uuid).validation)))


async def _query_request(
    request: Request, project_uuid: str, explore: str | None, body: Any = None
) -> tuple[Principal, mq.Project, mq.MetricQuery]:
    """Caller, project and the body's MetricQuery, its limit within the server's maximum."""
    principal = caller(request)
    project = served(request, project_uuid).project
    query = metric_query(body if body is not None else await json_body(request), explore)
    max_limit = state_of(request).settings.max_limit
    if query.limit is None:
        query = query.model_copy(update={"limit": max_limit})
    if query.limit is not None and query.limit > max_limit:
        raise ApiError("ParameterError", 400, f"Query limit can not exceed {max_limit}")
    return principal, project, query


def _echo(body: Any, query: mq.MetricQuery) -> dict[str, Any]:
    """The MetricQuery as the client sent it (Lightdash's JSON), with its explore and limit."""
    sent = dict(body) if isinstance(body, dict) else {}
    return {**sent, "exploreName": query.explore_name, "limit": query.limit}


async def _run(request: Request, principal: Principal, call: Callable[[], Any]) -> Any:
    return await state_of(request).jobs.run(principal.key, call)


def _own_job(request: Request, principal: Principal, job_id: str, project_uuid: str) -> Job:
    job = state_of(request).jobs.job(job_id, principal.key)
    if job.meta.get("project") != project_uuid:
        raise ApiError("NotExistsError", 404, f"job {job_id!r} does not exist in this project")
    return job


def _paging(request: Request, settings: Settings) -> tuple[int, int]:
    try:
        page = int(request.query_params.get("page", 1))
        size = int(request.query_params.get("pageSize", settings.default_page_size))
    except ValueError:
        raise ApiError("ParameterError", 400, "page and pageSize must be whole numbers") from None
    if page < 1 or not 1 <= size <= settings.max_page_size:
        raise ApiError(
            "ParameterError", 400, f"page must be ≥ 1 and pageSize 1…{settings.max_page_size}"
        )
    return page, size


def _performance(job: Job, start: dt.datetime) -> dict[str, Any]:
    page_ms = (dt.datetime.now() - start).total_seconds() * 1000
    return {"queueTimeMs": None, "initialQueryExecutionMs": None, "resultsPageExecutionMs": page_ms}


def _file_url(request: Request, job: Job) -> str:
    base = str(request.base_url).rstrip("/")
    return f"{base}/api/v1/projects/{job.meta['project']}/csv/{job.id}/file"
