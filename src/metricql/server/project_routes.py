"""The project and explore routes: health, the organisation's projects, explore summaries and
Lightdash's compiled Explore JSON, and SetExplores."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

import metricql as mq
from metricql.server.registry import Served
from metricql.server.requests import caller, explore_for, json_body, require, served, state_of
from metricql.server.schemas import ok

__all__ = ["project_routes"]


def project_routes() -> APIRouter:
    """The routes of this module (see the module docstring)."""
    router = APIRouter()
    p = "/api/v1/projects/{project_uuid}"
    router.add_api_route("/api/v1/health", health, methods=["GET"])
    router.add_api_route("/api/v1/org/projects", org_projects, methods=["GET"])
    router.add_api_route(p, project, methods=["GET"])
    router.add_api_route(p + "/explores", explores, methods=["GET"])
    router.add_api_route(p + "/explores/{explore_id}", explore, methods=["GET"])
    router.add_api_route(p + "/explores", set_explores, methods=["PUT"])
    return router


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


async def org_projects(request: Request) -> JSONResponse:
    caller(request)
    return JSONResponse(ok([_project_summary(s) for s in state_of(request).registry.all()]))


async def project(request: Request, project_uuid: str) -> JSONResponse:
    caller(request)
    return JSONResponse(ok(_project_summary(served(request, project_uuid))))


async def explores(request: Request, project_uuid: str) -> JSONResponse:
    principal = caller(request)
    project = served(request, project_uuid).project
    # Errored explores are listed with their errors, as Lightdash lists them.
    return JSONResponse(ok(project.explore_summaries(principal.user)))


async def explore(request: Request, project_uuid: str, explore_id: str) -> JSONResponse:
    principal = caller(request)
    project = served(request, project_uuid).project
    visible = explore_for(project, explore_id, principal)
    return JSONResponse(ok(mq.explore_to_dict(visible, week_start=project.week_start)))


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


def _project_summary(s: Served) -> dict[str, Any]:
    return {
        "projectUuid": s.uuid,
        "name": s.project.name,
        "type": "DEFAULT",
        "warehouseConnection": {"type": s.project.dialect},
    }
