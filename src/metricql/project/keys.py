"""YAML keys metricql knows: each unknown key is a load warning, with a did-you-mean for typos.

A key is *read* when the schema model of its place declares it (project/schema.py), *ignored on
purpose* when it only affects how Lightdash presents a field (`PRESENTATION_ONLY`) or is dbt's own
(`DBT_PROPERTIES`), and *not implemented* when it would change a result but metricql does not
apply it yet (`NOT_IMPLEMENTED`: a warning says so, never a silent drop).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

from metricql.errors import Issue, Where
from metricql.project.schema import (
    ColumnMeta,
    DimensionMeta,
    ExploreMeta,
    JoinMeta,
    MetricMeta,
    ModelMeta,
)
from metricql.project.yaml_io import LineDict

# Properties dbt itself defines for a model or a column in a properties .yml file.
DBT_PROPERTIES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "model": frozenset(
            {"name", "description", "columns", "config", "meta", "docs", "tests", "data_tests",
             "constraints", "latest_version", "versions", "access", "group", "deprecation_date",
             "tags", "time_spine", "unit_tests"}
        ),
        "column": frozenset(
            {"name", "description", "data_type", "meta", "config", "tests", "data_tests",
             "constraints", "quote", "tags", "policy_tags", "granularity", "docs"}
        ),
    }
)  # fmt: skip

# Lightdash keys that only change how a field or table is shown: ignored on purpose.
PRESENTATION_ONLY: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "model meta": frozenset(
            {"group_details", "default_time_dimension", "default_show_underlying_values",
             "spotlight", "owner", "ai_hint", "tags"}
        ),
        "dimension": frozenset(
            {"compact", "separator", "colors", "urls", "filter_autocomplete", "image",
             "richText", "rich_text", "spotlight", "tags", "ai_hint"}
        ),
        "metric": frozenset(
            {"compact", "separator", "urls", "tags", "spotlight", "ai_hint", "drivers",
             "richText", "rich_text", "default_time_dimension"}
        ),
        "explore": frozenset({"tags", "ai_hint", "spotlight"}),
        "join": frozenset(),
        "column meta": frozenset(),
    }
)  # fmt: skip

# Lightdash keys that change results or access, which metricql does not apply yet.
NOT_IMPLEMENTED: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "model meta": frozenset({"pre_aggregates"}),
        "dimension": frozenset({"timestamp_domain"}),
        "metric": frozenset(),
        "explore": frozenset(),
        "join": frozenset(),
        "column meta": frozenset(),
    }
)

_SCHEMAS: Mapping[str, type[BaseModel]] = {
    "model meta": ModelMeta,
    "dimension": DimensionMeta,
    "metric": MetricMeta,
    "explore": ExploreMeta,
    "join": JoinMeta,
    "column meta": ColumnMeta,
}


@cache
def read_keys(place: str) -> frozenset[str]:
    """Keys metricql reads at `place` (its schema model's fields and their aliases)."""
    fields = _SCHEMAS[place].model_fields
    names = frozenset(fields) - {"line"}  # where the YAML mapping sits, not a key
    return names | {f.alias for f in fields.values() if f.alias}


@cache
def known_keys(place: str) -> frozenset[str]:
    """Every key that is no typo at `place`."""
    if place in DBT_PROPERTIES:
        return DBT_PROPERTIES[place]
    return read_keys(place) | PRESENTATION_ONLY[place] | NOT_IMPLEMENTED[place]


def key_warnings(place: str, node: Any, where: str, file: str) -> list[Issue]:
    """An issue for each key of mapping `node` (at `place`) that is unknown or not applied."""
    if not isinstance(node, Mapping):
        return []
    known = known_keys(place)
    odd = node.keys() - known | (node.keys() & NOT_IMPLEMENTED.get(place, frozenset()))
    out = []
    for key in sorted(odd, key=list(node).index) if odd else ():  # most nodes: no odd key
        at = Where(file=file, line=node.line_of(key) if isinstance(node, LineDict) else None)
        if key in known:
            message = f"`{key}` of {where} is not implemented by metricql yet and is ignored"
            hint = "remove it, or expect results without it"
            out.append(Issue("key_not_implemented", message, hint=hint, where=at))
            continue
        close = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.75)
        suggestion = f"; did you mean `{close[0]}`?" if close else ""
        message = f"unknown key `{key}` in {where} is ignored{suggestion}"
        hint = f"keys metricql knows here: {', '.join(sorted(known))}"
        out.append(Issue("unknown_key", message, hint=hint, where=at))
    return out


def model_key_warnings(entry: Mapping[str, Any], meta: Mapping[str, Any], file: str) -> list[Issue]:
    """Issues for the keys of one YAML `models:` entry, its meta and its columns."""
    name = entry.get("name")
    model = f"model {name!r}"
    out = key_warnings("model", entry, model, file)
    out += key_warnings("model meta", meta, f"meta of {model}", file)
    for join in _items(meta.get("joins")):
        where = f"join {join.get('alias') or join.get('join')!r} of {model}"
        out += key_warnings("join", join, where, file)
    for explore, spec in _entries(meta.get("explores")):
        out += key_warnings("explore", spec, f"explore {explore!r} of {model}", file)
    for metric, spec in _entries(meta.get("metrics")):
        out += key_warnings("metric", spec, f"metric {metric!r} of {model}", file)
    return out


def column_key_warnings(
    model: str, column: Mapping[str, Any], meta: Mapping[str, Any], file: str
) -> list[Issue]:
    """Issues for the keys of one column, its meta, dimension and metrics."""
    nested = [
        ("dimension", meta.get("dimension")),
        *(("dimension", spec) for _, spec in _entries(meta.get("additional_dimensions"))),
        *(("metric", spec) for _, spec in _entries(meta.get("metrics"))),
    ]
    if all(_clean(p, n) for p, n in [("column", column), ("column meta", meta), *nested]):
        return []  # nearly every column: no message to build
    where = f"column {column.get('name')!r} of model {model!r}"
    out = key_warnings("column", column, where, file)
    out += key_warnings("column meta", meta, f"meta of {where}", file)
    out += key_warnings("dimension", meta.get("dimension"), f"dimension of {where}", file)
    for name, spec in _entries(meta.get("additional_dimensions")):
        out += key_warnings("dimension", spec, f"dimension {name!r} of {where}", file)
    for name, spec in _entries(meta.get("metrics")):
        out += key_warnings("metric", spec, f"metric {name!r} of {where}", file)
    return out


def _clean(place: str, node: Any) -> bool:
    """No unknown and no unapplied key in `node` (cheap: set operations only)."""
    if not isinstance(node, Mapping):
        return True
    keys = node.keys()
    return keys <= known_keys(place) and not keys & NOT_IMPLEMENTED.get(place, frozenset())


def _items(value: Any) -> list[Any]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _entries(value: Any) -> list[tuple[str, Any]]:
    return list(value.items()) if isinstance(value, Mapping) else []
