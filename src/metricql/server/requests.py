"""What the routes share: the server state and the per-request helpers (who is calling,
which project, which explore they may see, the JSON body)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request

import metricql as mq
from metricql.compiler.plan.access import visible_explore
from metricql.server.auth import Lookup, Principal, Unauthenticated, authenticate
from metricql.server.jobs import Jobs, Settings
from metricql.server.registry import Registry, Served
from metricql.server.schemas import ApiError, from_metricql

__all__ = ["State", "caller", "explore_for", "json_body", "require", "served", "state_of"]


@dataclass
class State:
    """What every route needs: the projects, the token lookup, the job pool, the settings."""

    registry: Registry
    lookup: Lookup
    jobs: Jobs
    settings: Settings
    files: Path  # CSV downloads, deleted at shutdown


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
        project.explore(name, user=principal.user)  # hints name only what the caller may see
    except mq.MetricQLError as err:
        raise from_metricql(err) from None
    # This explore only: explores_for() would build every lazy explore of the project.
    visible = visible_explore(project.explore(name), principal.user)
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
