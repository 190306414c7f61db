"""`create_app`: the ASGI application serving the query routes of Lightdash's API.

Routes only, thin over the public `metricql` API; the query routes are in `routes.py`. Every
route but `/api/v1/health` needs a token (see `auth.py`); a user sees and queries only what
their user context allows.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

import metricql as mq
from metricql.server.auth import Lookup, Principal, TokenStore, Unauthenticated, authenticate
from metricql.server.jobs import Jobs, Settings
from metricql.server.middleware import AccessLog, BodyLimit
from metricql.server.registry import Registry, Served, serve_projects
from metricql.server.schemas import ApiError, error_body, from_metricql, ok

__all__ = ["State", "create_app"]

LOG = logging.getLogger("metricql.server")
_HTTP_NAMES = {404: "NotFoundError", 405: "MethodNotAllowedError"}


@dataclass
class State:
    """What every route needs: the projects, the token lookup, the job pool, the settings."""

    registry: Registry
    lookup: Lookup
    jobs: Jobs
    settings: Settings
    files: Path  # CSV downloads, deleted at shutdown


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
    app.include_router(_meta_routes())
    from metricql.server.routes import query_routes  # the query routes need State defined

    app.include_router(query_routes())
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(AccessLog)
    return app


def state_of(request: Request) -> State:
    """The server state of a request's app."""
    found: State = request.app.state.metricql
    return found


def caller(request: Request) -> Principal:
    """The authenticated caller (AuthorizationError 401 without a valid token)."""
    try:
        principal = authenticate(request.headers.get("authorization"), state_of(request).lookup)
    except Unauthenticated as err:
        raise ApiError("AuthorizationError", 401, f"not authenticated: {err}") from None
    access = getattr(request.state, "access", None)
    if isinstance(access, dict):
        access["user"] = principal.key
    return principal


def served(request: Request, project_uuid: str) -> Served:
    """The served project of the path (NotExistsError 404 when there is none)."""
    found = state_of(request).registry.get(project_uuid)
    if found is None:
        raise ApiError("NotExistsError", 404, f"project {project_uuid!r} does not exist")
    return found


def explore_for(project: mq.Project, name: str, principal: Principal) -> mq.Explore:
    """The explore as the caller may see it: 404 if it does not exist, 403 if it is hidden."""
    try:
        project.explore(name)
    except mq.MetricQLError as err:
        raise from_metricql(err) from None
    visible = project.explores_for(principal.user).get(name)
    if visible is None:
        raise ApiError("ForbiddenError", 403, f"you may not access explore {name!r}")
    return visible


def require(flag: bool, what: str) -> None:
    """ForbiddenError unless the caller has the permission `what` names."""
    if not flag:
        raise ApiError("ForbiddenError", 403, f"this token may not {what}")


async def json_body(request: Request) -> Any:
    """The parsed JSON body (ParameterError 400 when it is not JSON)."""
    try:
        return await request.json()
    except ValueError:
        raise ApiError("ParameterError", 400, "the request body is not valid JSON") from None


def _meta_routes() -> Any:
    from fastapi import APIRouter

    router = APIRouter()

    @router.get("/api/v1/health")
    async def health(request: Request) -> JSONResponse:
        state = state_of(request)
        settings = state.settings
        projects = [
            {"projectUuid": s.uuid, "name": s.project.name, "explores": len(s.project.explores)}
            for s in state.registry.all()
        ]
        return JSONResponse(
            ok(
                {
                    "healthy": True,
                    "mode": "default",
                    "version": mq.__version__,
                    "query": {
                        "maxLimit": settings.max_limit,
                        "defaultLimit": settings.default_page_size,
                        "maxPageSize": settings.max_page_size,
                        "csvCellsLimit": mq.CSV_CELLS_LIMIT,
                    },
                    "projects": projects,
                }
            )
        )

    @router.get("/api/v1/org/projects")
    async def org_projects(request: Request) -> JSONResponse:
        caller(request)
        return JSONResponse(ok([_project_summary(s) for s in state_of(request).registry.all()]))

    @router.get("/api/v1/projects/{project_uuid}")
    async def project(request: Request, project_uuid: str) -> JSONResponse:
        caller(request)
        return JSONResponse(ok(_project_summary(served(request, project_uuid))))

    @router.get("/api/v1/projects/{project_uuid}/explores")
    async def explores(request: Request, project_uuid: str) -> JSONResponse:
        principal = caller(request)
        project = served(request, project_uuid).project
        # Issue 10: the project's errored explores join this list as `errors=` entries.
        return JSONResponse(ok(mq.explore_summaries(project.explores_for(principal.user))))

    @router.get("/api/v1/projects/{project_uuid}/explores/{explore_id}")
    async def explore(request: Request, project_uuid: str, explore_id: str) -> JSONResponse:
        principal = caller(request)
        project = served(request, project_uuid).project
        visible = explore_for(project, explore_id, principal)
        return JSONResponse(ok(mq.explore_to_dict(visible, week_start=project.week_start)))

    @router.put("/api/v1/projects/{project_uuid}/explores")
    async def set_explores(request: Request, project_uuid: str) -> JSONResponse:
        principal = caller(request)
        require(principal.manage, "replace a project's explores")
        target = served(request, project_uuid)
        body = await json_body(request)
        state = state_of(request)
        new = await state.jobs.run(
            principal.key, lambda: target.project.with_explores(mq.load_explores_json(body))
        )
        state.registry.update(project_uuid, project=new)
        return JSONResponse(ok(None))

    return router


def _project_summary(s: Served) -> dict[str, Any]:
    return {
        "projectUuid": s.uuid,
        "name": s.project.name,
        "type": "DEFAULT",
        "warehouseConnection": {"type": s.project.dialect},
    }


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
