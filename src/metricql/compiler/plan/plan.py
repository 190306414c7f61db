"""Plan a metric query: resolve every id once and compute what every later stage reads.

    explore + query ──▶ fields, sorts, calculations ──▶ metric closure ──▶ joins and why
                    ──▶ fan-out routes ──▶ filters bound to their fields ──▶ fields read

Render, stitch, totals, explain, the access check and the cache key read the plan; none of
them walks the explore or the query again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from metricql.compiler.features.custom_dimensions import CustomDim
from metricql.compiler.features.pivots import Pivot, pivot_plan, pivot_scope
from metricql.compiler.features.table_calculations import Calc, compile_calculations
from metricql.compiler.features.time_grains import with_synthesised, zoomed
from metricql.compiler.plan.closure import MetricClosure, metric_closure
from metricql.compiler.plan.fanout import FanOutPlan, fanout_plan
from metricql.compiler.plan.joins import JoinReason, ReasonKind, TableUses
from metricql.compiler.plan.lookup import (
    QueryFields,
    checked_limit,
    query_fields,
    query_sorts,
    required_filters,
)
from metricql.compiler.plan.targets import PlanFilters, bind_filters, metric_value_type
from metricql.compiler.sql.ordering import sort_key
from metricql.query.model import FilterRule, MetricQuery, SortField, rules
from metricql.semantic.explore import Explore, Join
from metricql.semantic.fields import Dimension, DimensionType, Metric


@dataclass(frozen=True, slots=True)
class Plan:
    """What one query needs from its explore, resolved once, before any SQL is assembled."""

    explore: Explore
    dimensions: tuple[Dimension, ...]
    metrics: tuple[Metric, ...]
    filter_only_metrics: tuple[Metric, ...]
    joins: tuple[Join, ...]
    sorts: tuple[SortField, ...]
    limit: int | None
    closure: MetricClosure  # the aggregated metrics and every metric they reference
    fanout: FanOutPlan  # where each metric of the closure is computed
    filters: PlanFilters  # the query's filters and required filters, bound to their fields
    join_reasons: Mapping[str, tuple[JoinReason, ...]]  # joined table → why
    reads: frozenset[str]  # every explore field id the SQL reads: the access closure
    custom_dimensions: tuple[CustomDim, ...] = ()
    all_custom: Mapping[str, CustomDim] = field(default_factory=dict)
    post_metrics: tuple[Metric, ...] = ()
    post_calculation_inputs: tuple[Metric, ...] = ()  # computed only for post metrics
    calculations: tuple[Calc, ...] = ()
    timezone: str = "UTC"  # of relative date filters on timestamps
    pivot: Pivot | None = None  # the query's rows are re-aggregated into a pivot table
    parameters: Mapping[str, Any] = field(default_factory=dict)  # values filter tokens took

    @property
    def dimension_ids(self) -> tuple[str, ...]:
        """Grouping columns in select order: dimensions, then custom dimensions."""
        return tuple(d.id for d in self.dimensions) + tuple(c.id for c in self.custom_dimensions)

    @property
    def aggregated_metrics(self) -> tuple[Metric, ...]:
        """Metrics computed by the GROUP BY: selected, filter-only and post-calc inputs."""
        return (
            tuple(m for m in self.metrics if not m.is_post_calculation)
            + self.filter_only_metrics
            + self.post_calculation_inputs
        )

    @property
    def selected_ids(self) -> tuple[str, ...]:
        """Output column ids in select order."""
        return (
            self.dimension_ids
            + tuple(m.id for m in self.metrics)
            + tuple(c.name for c in self.calculations)
        )


def plan_query(explore: Explore, query: MetricQuery, *, max_limit: int | None = None) -> Plan:
    """Resolve every id of `query` against `explore`, choose joins, route metrics."""
    filtered = (r.target.field_id for r in rules(query.filters.dimensions))
    explore = with_synthesised(explore, (*query.dimensions, *filtered))
    fields = query_fields(explore, query)
    fields = replace(fields, dimensions=zoomed(explore, fields.dimensions, query.date_zoom))
    limit = checked_limit(query.limit, max_limit)
    calc_names = [c.name for c in query.table_calculations]
    sorts = query_sorts(query, fields.dimensions, fields.metrics, fields.output_ids + calc_names)
    order_keys = [
        (sort_key(explore, fields.all_custom, s.field_id), s.descending)
        for s in sorts
        if s.field_id not in calc_names
    ]
    calcs = compile_calculations(
        query.table_calculations,
        fields.output_ids,
        order_keys,
        explore.source_dialect,
        pivot_scope(
            query.pivot_configuration,
            [*(d.id for d in fields.dimensions), *(c.id for c in fields.custom)],
        ),
    )
    required = required_filters(explore, query)
    closure = metric_closure(explore, fields.aggregated)
    joins, reasons = _uses(explore, query, fields, required, closure).joins(explore)
    groups = (query.filters.dimensions, query.filters.metrics, query.filters.table_calculations)
    selected = {m.id: m for m in (*fields.metrics, *fields.filter_only)}
    filters = bind_filters(
        explore, groups, required, fields.all_custom, selected, calcs, closure.metrics
    )
    return Plan(
        explore=explore,
        dimensions=fields.dimensions,
        metrics=fields.metrics,
        filter_only_metrics=fields.filter_only,
        joins=joins,
        sorts=sorts,
        limit=limit,
        closure=closure,
        fanout=fanout_plan(explore, joins, closure),
        filters=filters,
        join_reasons=reasons,
        reads=_reads(explore, fields, filters, closure, calcs),
        custom_dimensions=fields.custom,
        all_custom=fields.all_custom,
        post_metrics=fields.post,
        post_calculation_inputs=fields.post_inputs,
        calculations=tuple(calcs),
        timezone=query.timezone or "UTC",
        pivot=pivot_plan(query.pivot_configuration, _output_types(explore, fields, calcs), limit),
    )


def _output_types(
    explore: Explore, fields: QueryFields, calcs: list[Calc]
) -> dict[str, DimensionType]:
    """The type of each output column, in select order (what a pivot may aggregate)."""
    return {
        **{d.id: d.type for d in fields.dimensions},
        **{c.id: c.type for c in fields.custom},
        **{m.id: metric_value_type(explore, m) for m in fields.metrics},
        **{c.name: c.type or DimensionType.NUMBER for c in calcs},
    }


def _uses(
    explore: Explore,
    query: MetricQuery,
    fields: QueryFields,
    required: tuple[FilterRule, ...],
    closure: MetricClosure,
) -> TableUses:
    """Every table the query's fields read, each with why (see `joins.TableUses`)."""
    uses = TableUses()
    for dim in fields.dimensions:
        uses.dimension(dim, "dimension")
    for custom in fields.custom:
        uses.add(custom.tables, "custom_dimension", custom.id)
    for metric in closure.below((*fields.metrics, *fields.post_inputs)):
        uses.metric(explore, metric, "metric")
    for metric in closure.below(fields.filter_only):
        uses.metric(explore, metric, "metric_filter")
    filtered: list[tuple[ReasonKind, FilterRule]] = [
        *(("dimension_filter", r) for r in rules(query.filters.dimensions)),
        *(("required_filter", r) for r in required),
    ]
    for kind, rule in filtered:
        fid = rule.target.field_id
        on_dim, on_custom = explore.dimensions.get(fid), fields.all_custom.get(fid)
        if on_dim is not None:
            uses.dimension(on_dim, kind, fid)
        elif on_custom is not None:
            uses.add(on_custom.tables, kind, fid)
    base = explore.tables[explore.base_table]
    uses.add(base.sql_where_tables, "sql_filter", explore.base_table)
    return uses


def _reads(
    explore: Explore,
    fields: QueryFields,
    filters: PlanFilters,
    closure: MetricClosure,
    calcs: list[Calc],
) -> frozenset[str]:
    """Every explore field id the SQL reads: selected and filtered fields, required filters,
    the metric closure and its YAML filters, what custom dimensions (bins: their base) and
    additional metrics reference, and the inputs of table calculations."""
    ids = {d.id for d in fields.dimensions} | set(filters.on_dimensions)
    ids |= {m.id for m in (*closure.metrics, *fields.post)}
    custom = [fields.all_custom[f] for f in filters.on_dimensions if f in fields.all_custom]
    for dim in (*fields.custom, *custom):
        ids |= dim.reads
    for metric_id, read in fields.additional.reads.items():
        if metric_id in closure.by_id:
            ids |= read
    for calc in calcs:
        ids |= calc.inputs
    return frozenset(i for i in ids if i in explore.dimensions or i in explore.metrics)
