"""Warehouse types for the columns YAML leaves untyped: dbt's catalog.json, or a live connection.

A column's dimension type comes from `meta.dimension.type`, else its `data_type` (YAML or
manifest), else — filled in here — the type the warehouse reports: `target/catalog.json` (what
`dbt docs generate` wrote) when present, else the connection's information_schema (see
warehouse/columns.py). Columns that already have either keep them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from metricql.errors import ProjectError
from metricql.project.profile import ProfileTarget
from metricql.project.schema import ModelSchema, ProjectSchema

# (schema, identifier), lower case → {column name, lower case: warehouse type}
RelationTypes = Mapping[tuple[str, str], Mapping[str, str]]


def relation_parts(model: ModelSchema, target: ProfileTarget | None) -> tuple[str, str] | None:
    """(schema, identifier) of the table a model reads, lower case; None for a subquery."""
    if model.meta.sql_from:
        return None
    if model.relation_name:
        try:
            table = sqlglot.parse_one(model.relation_name, into=exp.Table)
        except (ParseError, TokenError):
            return None
        return (table.db.lower(), table.name.lower())
    schema = model.schema_ or (target.schema if target else None) or ""
    return (schema.lower(), (model.alias or model.name).lower())


def untyped(schema: ProjectSchema) -> dict[tuple[str, str], ModelSchema]:
    """Models with a column that has no type yet, by the relation they read."""
    out = {}
    for model in schema.models:
        parts = relation_parts(model, schema.target)
        needs = any(
            c.data_type is None and (c.meta.dimension is None or c.meta.dimension.type is None)
            for c in model.columns
        )
        if parts is not None and needs:
            out[parts] = model
    return out


def with_column_types(schema: ProjectSchema, types: RelationTypes) -> ProjectSchema:
    """`schema` with each column lacking a data_type given the warehouse's type, if known."""
    if not types:
        return schema
    models = []
    for model in schema.models:
        found = _types_of(relation_parts(model, schema.target), types)
        if not found:
            models.append(model)
            continue
        columns = tuple(
            c.model_copy(update={"data_type": found[c.name.lower()]})
            if c.data_type is None and c.name.lower() in found
            else c
            for c in model.columns
        )
        models.append(model.model_copy(update={"columns": columns}))
    return schema.model_copy(update={"models": tuple(models)})


def _types_of(parts: tuple[str, str] | None, types: RelationTypes) -> Mapping[str, str] | None:
    """The types of relation `parts`; without a schema, of the one relation of that name."""
    if parts is None:
        return None
    if parts[0] or parts in types:
        return types.get(parts)
    named = [found for (_, name), found in types.items() if name == parts[1]]
    return named[0] if len(named) == 1 else None


def catalog_types(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    """Column types of every node and source in dbt's catalog.json, by relation."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ProjectError(
            f"cannot read {path.name}: {err}",
            hint="regenerate it with `dbt docs generate`, or delete it",
            file=str(path),
        ) from None
    out: dict[tuple[str, str], dict[str, str]] = {}
    for section in ("nodes", "sources"):
        entries = doc.get(section) if isinstance(doc, Mapping) else None
        for entry in entries.values() if isinstance(entries, Mapping) else ():
            _add_entry(entry, out)
    return out


def _add_entry(entry: Any, out: dict[tuple[str, str], dict[str, str]]) -> None:
    meta = entry.get("metadata") if isinstance(entry, Mapping) else None
    columns = entry.get("columns") if isinstance(entry, Mapping) else None
    if not isinstance(meta, Mapping) or not isinstance(columns, Mapping):
        return
    key = (str(meta.get("schema") or "").lower(), str(meta.get("name") or "").lower())
    out[key] = {
        str(c.get("name", name)).lower(): str(c["type"])
        for name, c in columns.items()
        if isinstance(c, Mapping) and c.get("type")
    }
