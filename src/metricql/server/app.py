"""`create_app`: the ASGI application serving the query routes of Lightdash's API.

Routes only, thin over the public `metricql` API: `project_routes.py` (health, projects,
explores) and `routes.py` (queries, CSV, SQL, validation); `requests.py` holds what they share.
Every
route but `/api/v1/health` needs a token (see `auth.py`); a user sees and queries only what
their user context allows.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

import metricql as mq
from metricql.server.auth import Lookup, TokenStore
from metricql.server.jobs import Jobs, Settings
from metricql.server.middleware import AccessLog, BodyLimit
from metricql.server.project_routes import project_routes
from metricql.server.registry import Registry, serve_projects
from metricql.server.requests import State
from metricql.server.routes import query_routes
from metricql.server.schemas import ApiError, error_body, from_metricql

__all__ = ["State", "create_app"]

LOG = logging.getLogger("metricql.server")
_HTTP_NAMES = {404: "NotFoundError", 405: "MethodNotAllowedError"}


def create_app(
    projects: mq.Project | Sequence[mq.Project] | Mapping[str, mq.Project] | Registry,
    *,
    auth: Lookup | Mapping[str, Mapping[str, Any]],
    settings: Settings | None = None,
) -> FastAPI:
    """The ASGI app serving `projects` (a mapping gives their uuids; else derived from names).

    `auth` maps a token to its user: a callable `token -> Principal | UserContext | None`, or a
    mapping `{token: {email, attributes, custom_sql, manage}}`.
    """
    settings = settings or Settings()
    registry = projects if isinstance(projects, Registry) else serve_projects(projects)
    lookup: Lookup = auth if callable(auth) else TokenStore(auth)
    files = Path(tempfile.mkdtemp(prefix="metricql-server-"))
    state = State(registry, lookup, Jobs(settings), settings, files)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        state.jobs.shutdown()  # running queries finish; then their files go
        shutil.rmtree(state.files, ignore_errors=True)
        LOG.info("metricql server stopped: running queries finished, files removed")

    app = FastAPI(title="metricql", version=mq.__version__, lifespan=lifespan)
    app.state.metricql = state
    _errors(app)
    app.include_router(project_routes())
    app.include_router(query_routes())
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(AccessLog)
    return app


def _errors(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, err: ApiError) -> JSONResponse:
        return JSONResponse(error_body(err.name, err.status, err.message, err.data), err.status)

    @app.exception_handler(mq.MetricQLError)
    async def library_error(request: Request, err: mq.MetricQLError) -> JSONResponse:
        return await api_error(request, from_metricql(err))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        body = error_body("ParameterError", 400, f"invalid request: {err.errors()[:3]}")
        return JSONResponse(body, 400)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, err: HTTPException) -> JSONResponse:
        name = _HTTP_NAMES.get(err.status_code, "ApiError")
        return JSONResponse(error_body(name, err.status_code, str(err.detail)), err.status_code)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, err: Exception) -> JSONResponse:
        LOG.exception("unexpected error", exc_info=err)
        body = error_body("UnexpectedServerError", 500, "unexpected error in the metricql server")
        return JSONResponse(body, 500)
