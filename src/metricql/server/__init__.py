"""`metricql.server`: Lightdash's query API over HTTP (the `server` extra: FastAPI, uvicorn).

    app = create_app(mq.load_project("path/to/dbt"), auth={"my-token": {"email": "a@b.c"}})

serves the routes Lightdash's clients call (the official `lightdash` Python SDK among them);
`metricql serve PROJECT --tokens tokens.yml` runs it. See `app.py` for the routes.
"""

from __future__ import annotations

from metricql import MissingDependencyError

try:
    import fastapi  # noqa: F401
except ImportError:  # pragma: no cover - exercised only without the extra
    raise MissingDependencyError(
        "metricql.server needs FastAPI, which is not installed",
        hint='pip install "metricql[server]"',
    ) from None

from metricql.server.app import create_app
from metricql.server.auth import Principal, TokenStore, load_tokens
from metricql.server.jobs import Settings
from metricql.server.registry import project_uuid

__all__ = ["Principal", "Settings", "TokenStore", "create_app", "load_tokens", "project_uuid"]
