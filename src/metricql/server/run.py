"""`metricql serve`: load the projects, build the app, run uvicorn until stopped.

- Each project gets a stable uuid (`--project-uuid` for a single project, else derived from
  its name), printed at start and listed by `/api/v1/org/projects`.
- SIGHUP (or, with `--reload`, a change to a project's YAML/JSON files) reloads the projects
  without dropping requests: running ones finish on the old project (see `registry.py`); a
  project that fails to load keeps serving its previous version and the error is logged.
- SIGINT/SIGTERM shut down gracefully: no new connections, running requests get
  `shutdown_grace` seconds, background queries finish, CSV files are deleted.
- The access log (one JSON line per request) goes to stdout unless `access_log=False`.
"""

from __future__ import annotations

import functools
import logging
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import uvicorn

import metricql as mq
from metricql.server.app import create_app
from metricql.server.auth import TokenStore, load_tokens
from metricql.server.jobs import Settings
from metricql.server.middleware import ACCESS_LOG
from metricql.server.registry import Registry, project_uuid, serve_projects

__all__ = ["serve"]

LOG = logging.getLogger("metricql.server")
_WATCHED = ("*.yml", "*.yaml", "*.json")
_WATCH_EVERY = 1.0  # seconds between looks at the project files


def serve(
    paths: Sequence[Path],
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    tokens: Path | None = None,
    token: str | None = None,
    uuid_: str | None = None,
    target: str | None = None,
    content: Path | None = None,
    reload: bool = False,
    access_log: bool = True,
    settings: Settings | None = None,
) -> None:
    """Serve `paths` until SIGINT/SIGTERM (see the module docstring)."""
    settings = settings or Settings()
    registry = _registry(paths, target, uuid_, content)
    auth = _auth(tokens, token)
    _logging(access_log)
    app = create_app(registry, auth=auth, settings=settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,  # ours is structured (middleware.AccessLog)
        timeout_graceful_shutdown=int(settings.shutdown_grace),
    )
    sock = config.bind_socket()
    # Listening (not only bound) before "listening on" is printed: a client that connects
    # while uvicorn still starts waits in the backlog instead of being refused.
    sock.listen(config.backlog)
    signal.signal(signal.SIGHUP, lambda *_: _in_thread(lambda: _reload(registry)))
    if reload:
        seen = _stamps(paths)  # taken now: any edit after start-up is a change
        _in_thread(lambda: _watch(registry, paths, seen))
    for served in registry.all():
        count = len(served.project.explores)
        print(f"serving project {served.project.name!r} ({count} explores) as {served.uuid}")
    bound = sock.getsockname()[1]
    print(f"listening on http://{host}:{bound} (Ctrl+C to stop; SIGHUP reloads)", flush=True)
    uvicorn.Server(config).run(sockets=[sock])


def _registry(
    paths: Sequence[Path], target: str | None, uuid_: str | None, content: Path | None
) -> Registry:
    if uuid_ is not None and len(paths) != 1:
        raise mq.QueryError(
            "--project-uuid names one project, but several were given",
            hint="serve one project per --project-uuid, or let uuids derive from names",
        )
    loaders = [functools.partial(_load, p, target) for p in paths]
    projects = [load() for load in loaders]
    uuids = [_checked_uuid(uuid_)] if uuid_ else [project_uuid(p.name) for p in projects]
    folders = {uuids[0]: content} if content is not None else {}
    return serve_projects(
        dict(zip(uuids, projects, strict=True)),
        reloaders=dict(zip(uuids, loaders, strict=True)),
        content=folders,
    )


def _load(path: Path, target: str | None) -> mq.Project:
    """Load a project and, on a DuckDB target, load its seeds now: before it serves (a reload
    swaps it in only after this), so no request waits on seeding or races a second loader."""
    project = mq.load_project(path, target=target)
    if project.target is not None and project.target.type == "duckdb":
        project.ensure_seeded()
    return project


def _checked_uuid(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise mq.QueryError(
            f"--project-uuid {text!r} is not a UUID",
            hint="write it as 8-4-4-4-12 hex digits",
        ) from None


def _auth(tokens: Path | None, token: str | None) -> TokenStore:
    if tokens is not None:
        return load_tokens(tokens)
    if token:  # one local token with every permission, for trying the server out
        return TokenStore({token: {"email": "local", "custom_sql": True, "manage": True}})
    raise mq.QueryError(
        "the server needs tokens: every request must authenticate",
        hint="pass --tokens tokens.yml (token → {email, attributes, custom_sql}) or --token T",
    )


def _logging(access_log: bool) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    ACCESS_LOG.addHandler(handler)
    ACCESS_LOG.setLevel(logging.INFO if access_log else logging.WARNING)
    ACCESS_LOG.propagate = False
    errors = logging.StreamHandler(sys.stderr)
    errors.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    LOG.addHandler(errors)
    LOG.setLevel(logging.INFO)


def _reload(registry: Registry) -> None:
    for line in registry.reload():
        LOG.info(line)


def _watch(registry: Registry, paths: Sequence[Path], seen: dict[Path, float]) -> None:
    while True:
        time.sleep(_WATCH_EVERY)
        now = _stamps(paths)
        if now != seen:
            seen = now
            _reload(registry)


def _stamps(paths: Sequence[Path]) -> dict[Path, float]:
    """Modification times of the files a project is read from (not target/, but its manifest)."""
    stamps = {}
    for root in map(Path, paths):
        files = [f for pattern in _WATCHED for f in root.rglob(pattern)]
        for file in [*files, root / "target" / "manifest.json"]:
            if "target" in file.relative_to(root).parts[:-1] and file.name != "manifest.json":
                continue
            try:
                stamps[file] = file.stat().st_mtime
            except OSError:  # deleted meanwhile, or never there
                continue
    return stamps


def _in_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="metricql-reload", daemon=True).start()
