"""Lightdash's compiled Explore JSON (SPEC §1.9) read and validated: the input of SetExplores.

Accepted: a list of explores, `{"explores": [...]}`, a single explore, or a mapping of name →
explore; as Python objects, JSON text or a path to a `.json` file. Entries carrying `errors`
(Lightdash's ExploreError) are kept apart. A key is either read, ignored on purpose (it only
describes or presents: `IGNORED`), or an error naming it: a key metricql does not know may change
who sees what or which rows count (`anyAttributes` once did), so it never vanishes silently.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from metricql.errors import MetricQLError, ProjectError, ProjectErrors
from metricql.project.schema import ParameterSchema
from metricql.query.keys import read_keys

__all__ = ["ExploreJson", "FieldJson", "JoinJson", "TableJson", "read_explores_json"]

_MAX_SHOWN = 3


class _In(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="ignore", alias_generator=to_camel, populate_by_name=True
    )


def _attribute_map(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value if value is not None else {}
    return {
        str(k): tuple(map(str, v)) if isinstance(v, list) else (str(v),) for k, v in value.items()
    }


def _attribute_groups(value: Any) -> Any:
    """`anyAttributes`: Lightdash's one mapping, or the list of them metricql writes when a
    field inherits several groups (each must be met)."""
    if value is None:
        return ()
    groups = value if isinstance(value, list) else [value]
    return tuple(_attribute_map(g) for g in groups if g)


class FieldJson(_In):
    """A CompiledDimension or CompiledMetric."""

    type: str
    name: str
    label: str | None = None
    sql: str = ""
    compiled_sql: str | None = None
    description: str | None = None
    hidden: bool = False
    index: int = 0
    groups: tuple[str, ...] = ()
    format: str | None = None
    round: int | None = None
    time_interval: str | None = None
    time_interval_base_dimension_name: str | None = None
    is_interval_base: bool = False
    is_additional_dimension: bool = False
    case_sensitive: bool | None = None
    required_attributes: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    any_attributes: tuple[dict[str, tuple[str, ...]], ...] = ()
    filters: tuple[dict[str, Any], ...] = ()
    percentile: float | None = None
    distinct_keys: tuple[str, ...] = ()
    dimension_reference: str | None = None
    show_underlying_values: tuple[str, ...] = ()

    _attrs = field_validator("required_attributes", mode="before")(_attribute_map)
    _any = field_validator("any_attributes", mode="before")(_attribute_groups)

    @field_validator("format", mode="before")
    @classmethod
    def _format_name(cls, v: Any) -> Any:
        return v if v is None or isinstance(v, str) else None  # format objects: display only


class TableJson(_In):
    """A CompiledTable."""

    name: str
    original_name: str | None = None
    label: str | None = None
    description: str | None = None
    sql_table: str
    sql_where: str | None = None
    uncompiled_sql_where: str | None = None
    primary_key: tuple[str, ...] = ()
    required_filters: tuple[dict[str, Any], ...] = ()
    required_attributes: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    any_attributes: tuple[dict[str, tuple[str, ...]], ...] = ()
    hidden: bool = False
    case_sensitive: bool | None = None
    dimensions: dict[str, FieldJson] = Field(default_factory=dict)
    metrics: dict[str, FieldJson] = Field(default_factory=dict)
    parameters: dict[str, ParameterSchema] = Field(default_factory=dict)  # the model's own

    _attrs = field_validator("required_attributes", mode="before")(_attribute_map)
    _any = field_validator("any_attributes", mode="before")(_attribute_groups)

    @field_validator("primary_key", mode="before")
    @classmethod
    def _key_list(cls, v: Any) -> Any:
        return (v,) if isinstance(v, str) else (v or ())


class JoinJson(_In):
    """A CompiledExploreJoin."""

    table: str
    sql_on: str = ""
    compiled_sql_on: str | None = None
    type: Literal["left", "inner", "full", "right"] | None = None
    relationship: Literal["one-to-one", "one-to-many", "many-to-one", "many-to-many"] | None = None
    hidden: bool = False
    always: bool = False


class ExploreJson(_In):
    """A compiled Explore."""

    name: str
    label: str | None = None
    description: str | None = None
    base_table: str
    joined_tables: tuple[JoinJson, ...] = ()
    tables: dict[str, TableJson]
    target_database: str = "duckdb"
    groups: tuple[str, ...] = ()
    case_sensitive: bool | None = None
    warnings: tuple[Any, ...] = ()


# Keys of Lightdash's compiled Explore that only describe or present (labels, UI hints,
# lineage, where a field was defined) or are derived from keys metricql reads itself
# (`tablesReferences`, `tablesRequiredAttributes`: metricql checks every table a query joins).
IGNORED: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "ExploreJson": frozenset(
            {"tags", "groupLabel", "warehouse", "ymlPath", "sqlPath", "type", "spotlight",
             "aiHint", "databricksCompute", "unfilteredTables"}
        ),
        "TableJson": frozenset(
            {"database", "schema", "orderFieldsBy", "groupLabel", "groupDetails",
             "defaultTimeDimension", "defaultShowUnderlyingValues", "aiHint", "warnings",
             "lineageGraph", "source", "spotlight"}
        ),
        "FieldJson": frozenset(
            {"fieldType", "table", "tableLabel", "source", "compact", "groupLabel", "group",
             "urls", "tags", "parameterReferences", "colors", "aiHint", "image",
             "tablesReferences", "tablesRequiredAttributes", "formatOptions",
             "defaultTimeDimension", "spotlight"}
        ),
        "JoinJson": frozenset({"label", "parameterReferences", "tablesReferences"}),
    }
)  # fmt: skip


def unknown_keys(entry: Any) -> list[str]:
    """Path of every key of one compiled Explore that metricql neither reads nor ignores."""
    found = _unknown(ExploreJson, entry, "")
    tables = entry.get("tables") if isinstance(entry, Mapping) else None
    for name, table in tables.items() if isinstance(tables, Mapping) else ():
        found += _unknown(TableJson, table, f"tables.{name}.")
        for kind in ("dimensions", "metrics"):
            fields = table.get(kind) if isinstance(table, Mapping) else None
            for fname, spec in fields.items() if isinstance(fields, Mapping) else ():
                found += _unknown(FieldJson, spec, f"tables.{name}.{kind}.{fname}.")
    joins = entry.get("joinedTables") if isinstance(entry, Mapping) else None
    for i, join in enumerate(joins if isinstance(joins, list) else ()):
        found += _unknown(JoinJson, join, f"joinedTables.{i}.")
    return found


def _unknown(model: type[BaseModel], node: Any, at: str) -> list[str]:
    if not isinstance(node, Mapping):
        return []
    known = read_keys(model) | IGNORED[model.__name__]
    return [f"{at}{key}" for key in node if key not in known]


def read_explores_json(source: Any) -> tuple[list[ExploreJson], list[dict[str, Any]]]:
    """Validated explores of `source`, and the ExploreError entries it holds."""
    entries = _entries(_load(source))
    explores: list[ExploreJson] = []
    errored: list[dict[str, Any]] = []
    problems: list[MetricQLError] = []
    for i, entry in enumerate(entries):
        name = entry.get("name", f"#{i}") if isinstance(entry, Mapping) else f"#{i}"
        if isinstance(entry, Mapping) and entry.get("errors"):
            errored.append(
                {"name": str(name), "label": entry.get("label"), "errors": entry["errors"]}
            )
            continue
        unknown = unknown_keys(entry)
        if unknown:
            problems.append(_unknown_error(str(name), unknown))
            continue
        try:
            explores.append(ExploreJson.model_validate(entry))
        except ValidationError as err:
            problems.append(
                ProjectError(
                    f"explore {name!r} is not a valid compiled Explore: {_summary(err)}",
                    hint="send Lightdash's compiled Explore JSON (name, baseTable, tables, …)",
                    explore=str(name),
                )
            )
    if problems:
        raise problems[0] if len(problems) == 1 else ProjectErrors(problems)
    return explores, errored


def _load(source: Any) -> Any:
    if isinstance(source, Path) or (isinstance(source, str) and source.lstrip()[:1] not in "[{"):
        path = Path(source)
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ProjectError(
                f"cannot read explores JSON: {err}",
                hint="pass a path to a JSON file, JSON text, or parsed JSON",
                file=str(path),
            ) from err
    if isinstance(source, (str, bytes)):
        try:
            return json.loads(source)
        except json.JSONDecodeError as err:
            raise ProjectError(
                f"explores JSON does not parse: {err.msg} (line {err.lineno}, column {err.colno})",
                hint="fix the JSON syntax at that position",
            ) from None
    return source


def _entries(data: Any) -> list[Any]:
    if isinstance(data, Mapping) and isinstance(data.get("explores"), list):
        return list(data["explores"])
    if isinstance(data, Mapping) and "baseTable" in data:
        return [data]
    if isinstance(data, Mapping) and all(isinstance(v, Mapping) for v in data.values()):
        return list(data.values())
    if isinstance(data, list):
        return data
    raise ProjectError(
        f"explores JSON must be a list of explores, not {type(data).__name__}",
        hint='send [explore, …] or {"explores": [explore, …]}',
    )


def _unknown_error(name: str, paths: list[str]) -> ProjectError:
    more = f" (and {len(paths) - _MAX_SHOWN} more)" if len(paths) > _MAX_SHOWN else ""
    return ProjectError(
        f"explore {name!r} has keys metricql does not implement: "
        f"{', '.join(paths[:_MAX_SHOWN])}{more}",
        hint="remove them, or check that this Lightdash version's explore format is supported: "
        "metricql would otherwise answer without their meaning",
        explore=name,
        keys=paths,
    )


def _summary(err: ValidationError) -> str:
    problems = err.errors(include_url=False)
    parts = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in problems[:_MAX_SHOWN]]
    more = len(problems) - _MAX_SHOWN
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
