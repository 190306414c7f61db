"""Explores as JSON: Lightdash's compiled Explore (SPEC §1.9), its explore summaries, and the
short outline `metricql explores --format json` prints.

`explore_to_dict` output loads back with `metricql.load_explores_json` into explores that
compile to the same SQL: field expressions are written with their references as Lightdash
writes them (`${orders.order_count}`, `${lightdash.attributes.region}`), interval children
name their base dimension and interval, metric filters target `table.dimension`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlglot import exp

from metricql.compiler.display import ExploreSql
from metricql.query.model import FilterRule
from metricql.semantic.explore import Explore, Join, Table
from metricql.semantic.fields import Dimension, Metric
from metricql.semantic.parameters import parameter_config

__all__ = ["explore_outline", "explore_summaries", "explore_summary", "explore_to_dict"]

# Explore-level warnings are problems of single fields the explore was built without.
_WARNING_TYPE = "FIELD_ERROR"


def explore_to_dict(explore: Explore, *, week_start: int | None = None) -> dict[str, Any]:
    """Lightdash's compiled Explore JSON of `explore` (camelCase keys, SPEC §1.9)."""
    render = ExploreSql(explore, week_start=week_start)
    tables = _visible_tables(explore)
    out: dict[str, Any] = {
        "name": explore.name,
        "label": explore.label,
        "tags": [],
        "baseTable": explore.base_table,
        "groups": list(explore.groups),
        "joinedTables": [_join(j, render) for j in explore.joins if j.table in tables],
        "tables": {k: _table(explore.tables[k], explore, render) for k in tables},
        "targetDatabase": explore.source_dialect,
        "warnings": [
            {"type": _WARNING_TYPE, "message": w}
            for w in (*explore.warnings, *(f"{e.where.prefix}{e.message}" for e in explore.errors))
        ],
    }
    if explore.description is not None:
        out["description"] = explore.description
    if explore.case_sensitive is not None:
        out["caseSensitive"] = explore.case_sensitive
    return out


def explore_summary(explore: Explore) -> dict[str, Any]:
    """Lightdash's `SummaryExplore` of one explore (the explores-list route)."""
    relation = explore.tables[explore.base_table].relation
    out: dict[str, Any] = {
        "name": explore.name,
        "label": explore.label,
        "tags": [],
        "type": "default",
        "databaseName": _part(relation, "catalog"),
        "schemaName": _part(relation, "db"),
    }
    if explore.description is not None:
        out["description"] = explore.description
    if explore.groups:
        out["groupLabel"] = explore.groups[0]
    return out


def explore_summaries(
    explores: Mapping[str, Explore], errors: Iterable[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    """Summaries sorted by name; each of `errors` (`{name, label, errors: [{type, message}]}`,
    Lightdash's ExploreError) is listed as an errored explore, as Lightdash marks them."""
    return summary_list([explore_summary(e) for e in explores.values()], errors)


def summary_list(
    summaries: Iterable[dict[str, Any]], errors: Iterable[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    """`explore_summaries` of summaries already made (`explore_summary`)."""
    rows = list(summaries)
    rows += [
        {"name": e["name"], "label": e.get("label", e["name"]), "tags": [], "errors": e["errors"]}
        for e in errors
    ]
    return sorted(rows, key=lambda r: str(r["name"]))


def explore_outline(explore: Explore) -> dict[str, Any]:
    """The short JSON of `metricql explores --format json`: names, labels, types of fields."""
    return {
        "name": explore.name,
        "label": explore.label,
        "baseTable": explore.base_table,
        "dimensions": [_outline_field(i, f) for i, f in explore.dimensions.items()],
        "metrics": [_outline_field(i, f) for i, f in explore.metrics.items()],
    }


def _outline_field(field_id: str, field: Dimension | Metric) -> dict[str, Any]:
    return {
        "id": field_id,
        "label": field.label,
        "type": getattr(field.type, "value", field.type),
        "hidden": field.hidden,
        "description": field.description,
    }


def _visible_tables(explore: Explore) -> list[str]:
    """Tables with a field in the explore's field maps (which `explores_for` trims per user)."""
    used = {d.table for d in explore.dimensions.values()} | {
        m.table for m in explore.metrics.values()
    }
    return [k for k in explore.tables if k in used or k == explore.base_table]


def _join(join: Join, render: ExploreSql) -> dict[str, Any]:
    out: dict[str, Any] = {
        "table": join.table,
        "sqlOn": render.template(join.on),
        "compiledSqlOn": render.compiled(join.on),
        "type": join.type.value,
        "hidden": join.hidden,
        "always": join.always,
        "tablesReferences": sorted(join.tables_references | {join.table}),
    }
    if join.relationship is not None:
        out["relationship"] = join.relationship.value
    return out


def _table(table: Table, explore: Explore, render: ExploreSql) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": table.name,
        "originalName": table.original_name,
        "label": table.label,
        "description": table.description or "",
        "database": _part(table.relation, "catalog"),
        "schema": _part(table.relation, "db"),
        "sqlTable": table.relation.sql(render.dialect),
        "primaryKey": list(table.primary_key),
        "requiredFilters": [_filter(r, explore) for r in table.default_filters],
        "requiredAttributes": _attributes(table.required_attributes),
        **_any_attributes(table.any_attributes),
        "groupDetails": {},
        "orderFieldsBy": "INDEX",
        "hidden": table.hidden,
        "lineageGraph": {},
        "dimensions": {
            d.name: _dimension(d, render)
            for d in explore.dimensions.values()
            if d.table == table.name
        },
        "metrics": {
            m.name: _metric(m, explore, render)
            for m in explore.metrics.values()
            if m.table == table.name
        },
    }
    if table.sql_where is not None:
        out["uncompiledSqlWhere"] = render.template(table.sql_where)
        out["sqlWhere"] = render.compiled(table.sql_where)
    if table.case_sensitive is not None:
        out["caseSensitive"] = table.case_sensitive
    prefix = f"{table.original_name}."  # the model's own parameters, as Lightdash's tables hold
    own = {n[len(prefix) :]: p for n, p in explore.parameters.items() if n.startswith(prefix)}
    if own:
        out["parameters"] = {n: parameter_config(p) for n, p in own.items()}
    return out


def _dimension(dim: Dimension, render: ExploreSql) -> dict[str, Any]:
    out = _common(dim, "dimension")
    out.update(
        sql=render.template(dim.sql),
        compiledSql=render.dimension(dim),
        isIntervalBase=dim.is_interval_base,
        isAdditionalDimension=dim.is_additional,
    )
    if dim.time_interval is not None:
        out["timeInterval"] = dim.time_interval.value
        out["timeIntervalBaseDimensionName"] = dim.time_interval_base
    if dim.case_sensitive is not None:
        out["caseSensitive"] = dim.case_sensitive
    return out


def _metric(metric: Metric, explore: Explore, render: ExploreSql) -> dict[str, Any]:
    out = _common(metric, "metric")
    out.update(
        sql=render.template(metric.sql),
        compiledSql=render.metric(metric),
        filters=[_filter(r, explore) for r in metric.filters],
        showUnderlyingValues=list(metric.show_underlying_values),
    )
    if metric.percentile is not None:
        out["percentile"] = metric.percentile
    if metric.distinct_keys:
        out["distinctKeys"] = [render.template(k) for k in metric.distinct_keys]
    if metric.dimension_reference is not None:
        out["dimensionReference"] = metric.dimension_reference
    return out


def _common(field: Dimension | Metric, kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "fieldType": kind,
        "type": field.type.value,
        "name": field.name,
        "label": field.label,
        "table": field.table,
        "tableLabel": field.table_label,
        "tablesReferences": sorted(field.tables_references),
        "description": field.description or "",
        "hidden": field.hidden,
        "index": field.index,
        "groups": list(field.groups),
        "requiredAttributes": _attributes(field.required_attributes),
        **_any_attributes(field.any_attributes),
    }
    if field.format is not None:
        out["format"] = field.format
    if field.round is not None:
        out["round"] = field.round
    return out


def _filter(rule: FilterRule, explore: Explore) -> dict[str, Any]:
    """A rule whose target is a dimension field id, as a rule on `table.dimension`."""
    dim = explore.dimensions.get(rule.target.field_id)
    ref = f"{dim.table}.{dim.name}" if dim is not None else rule.target.field_id
    out = rule.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"target"})
    out["target"] = {"fieldRef": ref}
    return out


def _attributes(required: Mapping[str, Sequence[str]]) -> dict[str, str | list[str]]:
    return {k: v[0] if len(v) == 1 else list(v) for k, v in required.items()}


def _any_attributes(groups: Sequence[Mapping[str, Sequence[str]]]) -> dict[str, Any]:
    """`anyAttributes` as Lightdash writes it (one mapping); a field that inherits several
    groups gets the list of them, which `load_explores_json` reads back."""
    if not groups:
        return {}
    shown = [_attributes(g) for g in groups]
    return {"anyAttributes": shown[0] if len(shown) == 1 else shown}


def _part(relation: exp.Expr, key: str) -> str:
    part = relation.args.get(key) if isinstance(relation, exp.Table) else None
    return part.name if isinstance(part, exp.Identifier) else ""
