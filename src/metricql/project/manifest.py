"""Read dbt's `target/manifest.json`: models and seeds with relation names, types and meta."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from metricql.dialects import ADAPTERS
from metricql.errors import MetricQLError, ProjectError, raise_all
from metricql.project.profile import ProfileTarget
from metricql.project.schema import ColumnSchema, ModelSchema, ProjectSchema
from metricql.project.yaml_io import deep_merge

_RESOURCE_TYPES = ("model", "seed")


def read_manifest(path: Path) -> dict[str, Any]:
    """Parse a manifest.json; unreadable or malformed files are a ProjectError."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ProjectError(
            f"cannot read {path.name}: {err.strerror or err}",
            hint="run `dbt parse` first",
            file=str(path),
        ) from None
    except json.JSONDecodeError as err:
        raise ProjectError(
            f"manifest is not valid JSON: {err.msg}",
            hint="regenerate it with `dbt parse`",
            file=str(path),
            line=err.lineno,
        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("nodes"), dict):
        raise ProjectError(
            "manifest has no `nodes` mapping", hint="is this a dbt manifest.json?", file=str(path)
        )
    return doc


def manifest_schema(
    path: Path,
    *,
    root: Path | None = None,
    target: ProfileTarget | None = None,
    name: str | None = None,
    seed_paths: tuple[Path, ...] = (),
    week_start: int | None = None,
) -> ProjectSchema:
    """A ProjectSchema from a manifest; the adapter type gives the dialect when no profile does."""
    doc = read_manifest(path)
    metadata = doc.get("metadata") or {}
    adapter = str(metadata.get("adapter_type") or "")
    if target is None and adapter:
        if adapter not in ADAPTERS:
            raise ProjectError(
                f"dbt adapter {adapter!r} is not supported",
                hint=f"supported: {', '.join(ADAPTERS)}",
                file=str(path),
            )
        target = ProfileTarget(profile="manifest", target="manifest", type=adapter, file=path)
    problems: list[MetricQLError] = []
    models: dict[str, ModelSchema] = {}
    for unique_id, node in sorted(doc["nodes"].items()):
        if not _wanted(node):
            continue
        model = _model(unique_id, node, path, problems)
        if model is None:
            continue
        model = _in_target_database(model, target)
        if model.name in models:
            problems.append(
                ProjectError(
                    f"two manifest nodes are named {model.name!r} ({unique_id})",
                    hint="metricql needs unique model names; give one an alias",
                    file=str(path),
                    model=model.name,
                )
            )
            continue
        models[model.name] = model
    raise_all(problems)
    return ProjectSchema(
        seed_column_types=_seed_column_types(doc["nodes"]),
        name=name or str(metadata.get("project_name") or path.parent.parent.name),
        root=root or path.parent,
        models=tuple(models.values()),
        target=target,
        seed_paths=seed_paths,
        week_start=week_start,
    )


def _in_target_database(model: ModelSchema, target: ProfileTarget | None) -> ModelSchema:
    """On DuckDB, a relation in the target's own database loses that catalog, as without a
    manifest: the catalog is whichever database the connection opened (a file's stem)."""
    own = target is not None and target.type == "duckdb" and target.database == model.database
    if not own or model.meta.sql_from or not model.relation_name:
        return model
    return model.model_copy(update={"relation_name": None, "database": None})


def _seed_column_types(nodes: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """`column_types` of each seed node, by seed name (its file stem)."""
    out = {}
    for node in nodes.values():
        config = node.get("config") if isinstance(node, Mapping) else None
        types = config.get("column_types") if isinstance(config, Mapping) else None
        if node.get("resource_type") == "seed" and isinstance(types, Mapping) and types:
            out[str(node.get("name"))] = {str(k): str(v) for k, v in types.items()}
    return out


def _wanted(node: Any) -> bool:
    if not isinstance(node, Mapping) or node.get("resource_type") not in _RESOURCE_TYPES:
        return False
    config = node.get("config") or {}
    return config.get("materialized") != "ephemeral" and config.get("enabled", True) is not False


def _merged(entry: Mapping[str, Any]) -> dict[str, Any]:
    meta = entry.get("meta") or {}
    config_meta = (entry.get("config") or {}).get("meta") or {}
    return deep_merge(meta, config_meta)


def _model(
    unique_id: str, node: Mapping[str, Any], path: Path, problems: list[MetricQLError]
) -> ModelSchema | None:
    name = str(node.get("name"))
    columns = []
    for column in (node.get("columns") or {}).values():
        try:
            columns.append(
                ColumnSchema.model_validate(
                    {
                        "name": column.get("name"),
                        "description": column.get("description") or None,
                        "data_type": column.get("data_type"),
                        "meta": _merged(column),
                    }
                )
            )
        except ValidationError as err:
            problems.append(_invalid(err, path, name, column.get("name")))
    try:
        return ModelSchema.model_validate(
            {
                "name": name,
                "description": node.get("description") or None,
                "meta": _merged(node),
                "columns": columns,
                "database": node.get("database"),
                "schema": node.get("schema"),
                "alias": node.get("alias"),
                "relation_name": node.get("relation_name"),
                "relation_origin": f"relation_name of {unique_id} in {path.name}",
                "file": path,
            }
        )
    except ValidationError as err:
        problems.append(_invalid(err, path, name, None))
        return None


def _invalid(err: ValidationError, path: Path, model: str, column: str | None) -> ProjectError:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"])
    where = f"column {column!r} of model {model!r}" if column else f"model {model!r}"
    return ProjectError(
        f"{where}: `{key}`: {first['msg']}",
        hint="fix the model's meta in its YAML and re-run `dbt parse`",
        file=str(path),
        model=model,
        field=column,
        key=key,
    )
