"""load_project's steps: read the project, validate it, keep what lazy explores need, and
go through the project cache (`metricql.project.cache`) when it can."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
import sqlglot
import yaml

import metricql
from metricql.errors import MetricQLError, ProjectError, ProjectErrors
from metricql.project import cache
from metricql.project.column_types import untyped
from metricql.project.loader import load_project_schema, profile_of
from metricql.project.profile import ProfileTarget
from metricql.project.schema import ProjectSchema
from metricql.semantic.explore import Explore
from metricql.semantic.lazy import Listing, Validation, pickled_models, validate, validate_eager
from metricql.warehouse.columns import typed_from_warehouse


@dataclass(frozen=True, slots=True)
class Loaded:
    """A validated project: the explores built at load (an eager load), or None."""

    schema: ProjectSchema
    validation: Validation
    models: dict[str, bytes]
    built: dict[str, Explore] | None
    from_cache: bool = False


@dataclass(frozen=True, slots=True)
class _Entry:
    file: Path
    key: bytes
    secret: bytes
    target: ProfileTarget | None


def load(
    path: str | Path,
    *,
    target: str | None,
    source_dialect: str | None,
    strict: bool,
    connection: Any,
    use_cache: bool,
    eager: bool = False,
) -> Loaded:
    """Read and validate the project at `path`, from its cache entry when one is current."""
    arguments = (target, source_dialect, strict)
    entry = _entry(path, arguments) if use_cache and connection is None else None
    if entry is not None:
        found = cache.read(entry.file, entry.key, entry.secret)
        if isinstance(found, tuple) and len(found) == 3:
            schema, validation, models = found
            schema = schema.model_copy(update={"target": entry.target})
            return Loaded(schema, validation, models, None, from_cache=True)
    try:
        schema = load_project_schema(
            path, target=target, source_dialect=source_dialect, strict=strict
        )
    except ProjectError as err:  # includes a ProjectErrors: its problems are taken over
        raise ProjectErrors([err]) from err
    consults_warehouse = connection is not None or bool(untyped(schema))
    schema = typed_from_warehouse(schema, connection)
    built: dict[str, Explore] | None = None
    if eager:
        built, validation = validate_eager(schema, _listing)
    else:  # explore by explore: no explore outlives its summary
        validation = validate(schema, _listing)
    models = pickled_models(schema)
    if not eager:  # the models live on as bytes: freed before the cache entry is pickled
        schema = schema.model_copy(update={"models": ()})
    if entry is not None and not (consults_warehouse and _warehouse_file(entry.target)):
        # The target is re-read on every load: its settings may hold secrets.
        kept = schema.model_copy(update={"models": (), "target": None})
        cache.write(entry.file, entry.key, entry.secret, (kept, validation, models))
    return Loaded(schema, validation, models, built)


def _listing(explore: Explore) -> Listing:
    """What the explores list shows of `explore`, and who may see it."""
    from metricql.catalog import explore_summary  # its display imports are heavy: on use

    base = explore.tables[explore.base_table]
    any_of = tuple(dict(group) for group in base.any_attributes)
    attributes = (dict(explore.required_attributes), dict(base.required_attributes))
    return (explore_summary(explore), *attributes, any_of)


def _entry(path: str | Path, arguments: tuple[object, ...]) -> _Entry | None:
    """Where and under which key this load is cached; None when it is not (switched off, a
    manifest file, no secret, or a project the cold load will report as broken)."""
    if not cache.enabled() or Path(path).suffix == ".json":
        return None
    secret = cache.secret_key()
    if secret is None:
        return None
    try:
        root, profile = profile_of(path, arguments[0] if isinstance(arguments[0], str) else None)
    except MetricQLError:
        return None
    extra = (*arguments, *_versions(), *_profile_key(profile), *_warehouse_file(profile))
    try:
        key = cache.fingerprint(root, extra, secret)
    except OSError:
        return None
    return _Entry(cache.cache_file(root, arguments), key, secret, profile)


def _versions() -> tuple[str, ...]:
    libraries = (metricql, sqlglot, pydantic, yaml)
    return (sys.version, *(str(getattr(m, "__version__", "")) for m in libraries))


def _profile_key(profile: ProfileTarget | None) -> tuple[object, ...]:
    """The resolved target, settings too (the key is a keyed digest: nothing readable)."""
    if profile is None:
        return (None,)
    settings = sorted((k, repr(v)) for k, v in profile.settings.items())
    return (repr(profile), settings, str(profile.file), str(profile.base_dir))


def _warehouse_file(profile: ProfileTarget | None) -> tuple[object, ...]:
    """The DuckDB target file's state, which types columns the YAML leaves untyped."""
    path = profile.duckdb_path if profile is not None else None
    if path is None or path == ":memory:" or path.startswith("md:"):
        return ()
    stats = []
    for file in (path, path + ".wal"):
        try:
            stat = os.stat(file)
        except OSError:
            continue
        stats.append((file, stat.st_size, stat.st_mtime_ns, stat.st_ino))
    return tuple(stats)
