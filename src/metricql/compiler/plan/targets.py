"""Filters bound to what they filter, once, by the planner: each target's SQL, type and case rule.

A query's filter groups keep their shape (render walks them); every rule's target id maps to a
`FilteredField`, per kind of filter: dimension filters (the query's, the explore's required
filters and the metrics' YAML `filters:` share one map), metric filters and table-calculation
filters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from sqlglot import exp

from metricql.compiler.features.custom_dimensions import CustomDim
from metricql.compiler.features.table_calculations import Calc
from metricql.errors import UnknownFieldError
from metricql.query.model import FilterGroup, FilterRule, rules
from metricql.semantic.explore import Explore
from metricql.semantic.fields import Dimension, DimensionType, Metric, MetricType


@dataclass(frozen=True, slots=True)
class FilteredField:
    """What a filter on one field compares: its SQL, type and case rule."""

    id: str
    type: DimensionType
    sql: exp.Expr | None = None  # an explore tree, finalised when rendered; None: result column
    case_sensitive: bool = True


@dataclass(frozen=True, slots=True)
class PlanFilters:
    """A query's filters, each target bound: groups as the query wrote them, fields by id."""

    dimensions: FilterGroup | None = None
    metrics: FilterGroup | None = None
    table_calculations: FilterGroup | None = None
    required: tuple[FilterRule, ...] = ()  # the explore's required filters the query keeps
    on_dimensions: Mapping[str, FilteredField] = field(default_factory=dict)
    on_metrics: Mapping[str, FilteredField] = field(default_factory=dict)
    on_calculations: Mapping[str, FilteredField] = field(default_factory=dict)


def case_sensitive(explore: Explore, dimension: Dimension) -> bool:
    """Whether string filters on `dimension` match case: field → table → explore → true.

    The one resolution for query filters, metric YAML filters and required filters alike.
    """
    settings = (
        dimension.case_sensitive,
        explore.tables[dimension.table].case_sensitive,
        explore.case_sensitive,
    )
    return next((s for s in settings if s is not None), True)


_METRIC_FILTER_TYPES: Mapping[MetricType, DimensionType] = {
    MetricType.STRING: DimensionType.STRING,
    MetricType.DATE: DimensionType.DATE,
    MetricType.TIMESTAMP: DimensionType.TIMESTAMP,
    MetricType.BOOLEAN: DimensionType.BOOLEAN,
}


def metric_value_type(explore: Explore, metric: Metric) -> DimensionType:
    """The type a metric's values have, for filtering them."""
    if metric.type in _METRIC_FILTER_TYPES:
        return _METRIC_FILTER_TYPES[metric.type]
    if metric.type in (MetricType.MIN, MetricType.MAX) and metric.dimension_reference:
        dim = explore.dimensions.get(metric.dimension_reference)
        if dim is not None:
            return dim.type
    return DimensionType.NUMBER


def bind_filters(
    explore: Explore,
    groups: tuple[FilterGroup | None, FilterGroup | None, FilterGroup | None],
    required: tuple[FilterRule, ...],
    custom: Mapping[str, CustomDim],
    metrics: Mapping[str, Metric],
    calculations: Iterable[Calc],
    closure: Iterable[Metric],
) -> PlanFilters:
    """Every filter target of a planned query bound to its field.

    `groups`: the query's dimension, metric and table-calculation groups; `metrics`: the
    selected and filter-only metrics; `closure`: every metric computed (YAML filters).
    """
    dimensions, metric_group, calc_group = groups
    targets = [r.target.field_id for r in (*rules(dimensions), *required)]
    targets += [r.target.field_id for m in closure for r in m.filters]
    on_dimensions = {fid: _dimension_target(explore, custom, fid) for fid in targets}
    on_metrics = {
        r.target.field_id: FilteredField(
            r.target.field_id, metric_value_type(explore, metrics[r.target.field_id])
        )
        for r in rules(metric_group)
    }
    calcs = {c.name: c for c in calculations}
    on_calculations = {r.target.field_id: _calculation_target(calcs, r) for r in rules(calc_group)}
    return PlanFilters(
        dimensions=dimensions,
        metrics=metric_group,
        table_calculations=calc_group,
        required=required,
        on_dimensions=MappingProxyType(on_dimensions),
        on_metrics=MappingProxyType(on_metrics),
        on_calculations=MappingProxyType(on_calculations),
    )


def metric_filter_targets(explore: Explore) -> Mapping[str, FilteredField]:
    """Every dimension the YAML `filters:` of the explore's metrics compare, bound."""
    ids = {r.target.field_id for m in explore.metrics.values() for r in m.filters}
    return MappingProxyType({fid: _dimension_target(explore, {}, fid) for fid in ids})


def _dimension_target(explore: Explore, custom: Mapping[str, CustomDim], fid: str) -> FilteredField:
    found = custom.get(fid)
    if found is not None:  # custom dimensions keep the default: case-sensitive
        return FilteredField(fid, found.type, found.select)
    dim = explore.dimensions[fid]
    return FilteredField(fid, dim.type, dim.sql, case_sensitive(explore, dim))


def _calculation_target(calcs: Mapping[str, Calc], rule: FilterRule) -> FilteredField:
    fid = rule.target.field_id
    calc = calcs.get(fid)
    if calc is None and not rule.disabled:  # a disabled rule filters nothing: no need to exist
        raise UnknownFieldError(
            f"table calculation filter references {fid!r}, "
            "which is not a table calculation of the query",
            hint=f"table calculations: {', '.join(calcs) or 'none'}",
            field=fid,
        )
    kind = calc.type if calc is not None and calc.type else DimensionType.STRING
    return FilteredField(fid, kind)
