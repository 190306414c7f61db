"""The projects a server serves, by uuid, swapped atomically on reload or SetExplores.

A request takes the current `Project` once and keeps it to the end, so a reload never drops
or mixes a request: new requests see the new project, running ones finish on the old.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from metricql import Project, ProjectError

__all__ = ["Registry", "Served", "project_uuid"]

_NAMESPACE = uuid.UUID("6f1e9c2a-3b7d-4e58-9a0c-5d2b8e7f1a34")  # metricql's own namespace


def project_uuid(name: str) -> str:
    """The stable uuid of a project named `name` (the same on every start)."""
    return str(uuid.uuid5(_NAMESPACE, name))


@dataclass(frozen=True)
class Served:
    """One served project: its uuid, the project, how to load it again, its content folder."""

    uuid: str
    project: Project
    reload: Callable[[], Project] | None = None
    content: Path | None = None
    validation: tuple[dict[str, Any], ...] = field(default=())


class Registry:
    """uuid → Served, read without locks, replaced under one."""

    def __init__(self, served: Sequence[Served]) -> None:
        uuids = [s.uuid for s in served]
        if len(set(uuids)) != len(uuids):
            raise ProjectError(
                "two served projects have the same uuid (or the same name)",
                hint="give each project its own name, or serve them from separate servers",
            )
        self._served: Mapping[str, Served] = {s.uuid: s for s in served}
        self._lock = threading.Lock()

    def get(self, project_uuid: str) -> Served | None:
        """The served project, or None."""
        return self._served.get(project_uuid)

    def all(self) -> list[Served]:
        """Every served project, in the order given."""
        return list(self._served.values())

    def update(self, project_uuid: str, **changes: Any) -> Served:
        """Swap in a changed copy of one served project (a new Project, validation results)."""
        with self._lock:
            new = replace(self._served[project_uuid], **changes)
            self._served = {**self._served, project_uuid: new}
        return new

    def reload(self) -> list[str]:
        """Load every project again from its files; a project that fails keeps serving its old
        version. Returns one line per project saying what happened."""
        report = []
        for served in self.all():
            if served.reload is None:
                continue
            try:
                self.update(served.uuid, project=served.reload())
            except Exception as err:  # keep serving: a broken edit must not take the server down
                report.append(f"reload of {served.project.name!r} failed: {err}")
            else:
                report.append(f"reloaded {served.project.name!r}")
        return report


def serve_projects(
    projects: Project | Sequence[Project] | Mapping[str, Project],
    *,
    reloaders: Mapping[str, Callable[[], Project]] | None = None,
    content: Mapping[str, Path] | None = None,
) -> Registry:
    """A registry of `projects` (a mapping gives their uuids; otherwise derived from names)."""
    if isinstance(projects, Project):
        projects = [projects]
    pairs = (
        projects.items()
        if isinstance(projects, Mapping)
        else [(project_uuid(p.name), p) for p in projects]
    )
    reloaders, content = reloaders or {}, content or {}
    return Registry(
        [
            Served(uid, p, reloaders.get(uid), content.get(uid, _default_content(p)))
            for uid, p in pairs
        ]
    )


def _default_content(project: Project) -> Path | None:
    folder = project.root / "lightdash"
    return folder if folder.is_dir() else None
