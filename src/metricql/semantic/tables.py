"""A model as one table of an explore: its dimensions (with time intervals) and metrics, each
resolved in the explore; a table whose fields read no other table is built once and shared."""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType
from typing import Any

from sqlglot import exp

from metricql.errors import CompileError, MetricQLError, did_you_mean
from metricql.project.schema import JoinMeta
from metricql.query.model import FilterRule
from metricql.semantic.explore import Table
from metricql.semantic.fields import (
    AGGREGATE_METRIC_TYPES,
    INTERVAL_LABELS,
    INTERVAL_TYPES,
    NON_AGGREGATE_METRIC_TYPES,
    POST_CALCULATION_METRIC_TYPES,
    Dimension,
    Metric,
    MetricType,
    field_id,
    friendly_name,
)
from metricql.semantic.models import DimDef, MetricDef, ModelDef
from metricql.semantic.resolve import AnyOf, Mode, Resolver, merge_any, merge_required, own_any
from metricql.semantic.sets import expand_fields

TableCache = dict[tuple[Any, ...], Table]


def shared_table(
    key: str, model: ModelDef, resolver: Resolver, join: JoinMeta | None, shared: TableCache
) -> Table:
    """`_table`, reused across explores when its fields read no other table.

    A model is joined into many explores; its fields resolve the same way in each unless they
    reference another table, so a self-contained table is built once per alias and join shape.
    """
    shape = None  # a join that changes nothing of the table shares the base build
    if join is not None:
        on_dims = frozenset(resolver.join_dimensions.get(key, ())) if join.fields else frozenset()
        shape = (join.label, join.alias, join.fields, join.hidden, join.description, on_dims)
        if shape == (None, None, None, False, None, frozenset()):
            shape = None
    cache_key = (model.name, key, shape)
    table = shared.get(cache_key)
    if table is None:
        table = _table(key, model, resolver, join)
        own_metrics = {m.id for m in table.metrics.values()}
        if all(d.tables_references <= {key} for d in table.dimensions.values()) and all(
            m.tables_references <= {key} and m.metric_references <= own_metrics
            for m in table.metrics.values()
        ):
            shared[cache_key] = table
    return table


def _checked_kept(keep: set[str], model: ModelDef, key: str) -> set[str]:
    """A join's `fields:` entries as field names: an interval child (`signed_up_month`) keeps
    its base dimension; an entry naming no field is an error (it would hide nothing silently)."""
    children = {
        f"{d.name}_{i.value.lower()}": d.name
        for d in model.dimensions.values()
        for i in d.intervals
    }
    known = {*model.dimensions, *model.metrics, *model.field_errors, *children}
    unknown = sorted(keep - known)
    if unknown:
        raise CompileError(
            f"fields of join {key}: {unknown[0]!r} is no dimension or metric of model "
            f"{model.name!r}",
            hint=did_you_mean(unknown[0], known, otherwise="list fields, set_name* or -field"),
            model=model.name,
            file=str(model.schema.file) if model.schema.file else None,
        )
    return {children.get(name, name) for name in keep}


def _table(key: str, model: ModelDef, resolver: Resolver, join: JoinMeta | None) -> Table:
    label = (join.label or friendly_name(join.alias)) if join and join.alias else model.label
    if join and join.label:
        label = join.label
    keep = None
    if join and join.fields is not None:
        keep = set(
            expand_fields(
                join.fields,
                model.schema.meta.sets,
                where=f"fields of join {key}",
                model=model.name,
                file=str(model.schema.file) if model.schema.file else None,
            )
        )
        keep = _checked_kept(keep, model, key)
    on_dims = resolver.join_dimensions.get(key, set())
    errors = {
        field_id(key, name): err
        for name, err in model.field_errors.items()
        if keep is None or name in keep
    }
    dims: dict[str, Dimension] = {}
    for ddef in model.dimensions.values():
        if keep is not None and ddef.name not in keep and ddef.name not in on_dims:
            continue
        hidden = bool(join and join.hidden) or (keep is not None and ddef.name not in keep)
        try:
            built = list(_dimensions(key, label, ddef, resolver, hidden))
        except MetricQLError as err:
            errors[field_id(key, ddef.name)] = located(err, model, ddef.name, ddef.line)
            continue
        dims.update((dim.name, dim) for dim in built)
    metrics: dict[str, Metric] = {}
    for mdef in model.metrics.values():
        if keep is not None and mdef.name not in keep:
            continue
        try:
            metrics[mdef.name] = _metric(key, label, mdef, resolver, bool(join and join.hidden))
        except MetricQLError as err:
            errors[field_id(key, mdef.name)] = located(err, model, mdef.name, mdef.line)
    meta = model.schema.meta
    return Table(
        name=key,
        original_name=model.name,
        label=label,
        description=(join.description if join else None) or model.schema.description,
        relation=model.relation,
        dimensions=MappingProxyType(dims),
        metrics=MappingProxyType(metrics),
        primary_key=meta.primary_key,
        required_attributes=MappingProxyType(dict(meta.required_attributes)),
        any_attributes=own_any(meta.any_attributes),
        hidden=bool(join and join.hidden),
        case_sensitive=meta.case_sensitive,
        row_filter=_row_filter(key, model, resolver),
        field_errors=MappingProxyType(errors),
    )


def located(error: MetricQLError, model: ModelDef, name: str, line: int | None) -> MetricQLError:
    """`error` pointing at the field it broke: its model's file, its line, its name."""
    file = str(model.schema.file) if model.schema.file else None
    where = {"file": file, "line": line, "model": model.name, "field": name}
    context = {**error.context, **{k: v for k, v in where.items() if v is not None}}
    return type(error)(error.message, hint=error.hint, **context)


def _row_filter(key: str, model: ModelDef, resolver: Resolver) -> exp.Expr | None:
    """The model's `row_filter` over its own columns (and user attributes), resolved."""
    if model.row_filter is None:
        return None
    ctx = {"model": model.name, "file": str(model.schema.file) if model.schema.file else None}
    resolved = resolver.resolve(model.row_filter, key, "where", f"row_filter of {key}")
    if resolved.tables - {key}:
        raise CompileError(
            f"row_filter of model {model.name!r} reads other tables: "
            f"{', '.join(sorted(resolved.tables - {key}))}",
            hint="a row filter may use only its own table's columns and user attributes",
            field="row_filter",
            **ctx,
        )
    return resolved.tree


def _dimensions(
    key: str, table_label: str, ddef: DimDef, resolver: Resolver, hidden: bool
) -> Iterable[Dimension]:
    resolved = resolver.dimension(key, ddef.name)
    meta = ddef.meta
    groups = meta.groups or ((meta.group_label,) if meta.group_label else ())
    common: dict[str, Any] = {
        "table": key,
        "table_label": table_label,
        "description": meta.description,
        "hidden": hidden or meta.hidden,
        "tables_references": resolved.tables,
        "format": meta.format,
        "round": meta.round,
        "case_sensitive": meta.case_sensitive,
        "required_attributes": MappingProxyType(dict(resolved.required)),  # own + inherited
        "any_attributes": resolved.any_of,  # own + inherited
    }
    yield Dimension(
        name=ddef.name,
        type=ddef.type,
        label=ddef.label,
        sql=resolved.tree,
        is_interval_base=bool(ddef.intervals),
        is_additional=ddef.is_additional,
        groups=groups,
        **common,
    )
    for interval in ddef.intervals:
        yield Dimension(
            name=f"{ddef.name}_{interval.value.lower()}",
            type=INTERVAL_TYPES[interval] or ddef.type,
            label=f"{ddef.label} {INTERVAL_LABELS[interval].lower()}",
            sql=resolver.dimension(key, f"{ddef.name}_{interval.value.lower()}").tree,
            time_interval=interval,
            time_interval_base=ddef.name,
            groups=(*groups, ddef.label),
            **common,
        )


def _metric(
    key: str, table_label: str, mdef: MetricDef, resolver: Resolver, hidden: bool
) -> Metric:
    owner = f"metric {mdef.name}"
    mode: Mode = "aggregate"
    if mdef.type in POST_CALCULATION_METRIC_TYPES:
        mode = "post"
    elif mdef.type in NON_AGGREGATE_METRIC_TYPES:
        mode = "metric"
    resolved = resolver.resolve(mdef.snippet, key, mode, owner)
    keys = tuple(resolver.resolve(k, key, "aggregate", owner).tree for k in mdef.distinct_keys)
    meta = mdef.meta
    return Metric(
        name=mdef.name,
        table=key,
        type=mdef.type,
        label=mdef.label,
        table_label=table_label,
        sql=resolved.tree,
        description=mdef.description,
        hidden=hidden or meta.hidden,
        percentile=meta.percentile if mdef.type is MetricType.PERCENTILE else None,
        distinct_keys=keys,
        dimension_reference=field_id(key, mdef.dimension_reference)
        if mdef.dimension_reference
        else None,
        tables_references=resolved.tables,
        metric_references=resolved.metrics,
        groups=meta.groups or ((meta.group_label,) if meta.group_label else ()),
        format=meta.format,
        round=meta.round,
        required_attributes=MappingProxyType(
            dict(merge_required(_metric_attributes(mdef, resolver.tables[key]), resolved.required))
        ),
        any_attributes=merge_any(_metric_any(mdef, resolver.tables[key]), resolved.any_of),
        show_underlying_values=meta.show_underlying_values,
        filters=_metric_filters(mdef, key, resolver),
    )


def _metric_attributes(mdef: MetricDef, model: ModelDef) -> dict[str, tuple[str, ...]]:
    """A column metric inherits the required attributes of its dimension."""
    inherited = {}
    if mdef.dimension_reference and mdef.dimension_reference in model.dimensions:
        inherited = dict(model.dimensions[mdef.dimension_reference].meta.required_attributes)
    return {**inherited, **mdef.meta.required_attributes}


def _metric_any(mdef: MetricDef, model: ModelDef) -> AnyOf:
    """A column metric inherits the `any_attributes` of its dimension, too."""
    own = own_any(mdef.meta.any_attributes)
    if mdef.dimension_reference and mdef.dimension_reference in model.dimensions:
        dimension = model.dimensions[mdef.dimension_reference]
        return merge_any(own_any(dimension.meta.any_attributes), own)
    return own


def _metric_filters(mdef: MetricDef, key: str, resolver: Resolver) -> tuple[FilterRule, ...]:
    """YAML `filters:` of a metric as rules on dimension field ids (CASE WHEN in the aggregate)."""
    if not mdef.meta.filters:
        return ()
    if mdef.type not in AGGREGATE_METRIC_TYPES:
        raise CompileError(
            f"{mdef.name} - metric filters cannot be used with non-aggregate or "
            "post-calculation metrics",
            hint="move the filter into the metrics this metric references",
            field=mdef.name,
            **resolver.ctx,
        )
    return resolver.filter_rules(
        list(mdef.meta.filters), key, f"filters of metric {mdef.name}", required_default=False
    )
