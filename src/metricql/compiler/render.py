"""Plan → sqlglot SELECT tree: select list, FROM and joins, WHERE, GROUP BY, metric filters."""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from metricql.compiler.expressions import Finalizer
from metricql.compiler.filters import FilterContext, filter_condition, group_condition
from metricql.compiler.plan import Plan
from metricql.query.model import AndGroup, FilterRule, MetricQuery, OrGroup
from metricql.semantic.explore import Join, JoinType
from metricql.semantic.fields import DimensionType, Metric, MetricType

METRICS_CTE = "metrics"

_JOIN_SIDES: dict[JoinType, dict[str, str]] = {
    JoinType.LEFT: {"side": "LEFT"},
    JoinType.RIGHT: {"side": "RIGHT"},
    JoinType.FULL: {"side": "FULL"},
    JoinType.INNER: {"kind": "INNER"},
}
_METRIC_FILTER_TYPES: dict[MetricType, DimensionType] = {
    MetricType.STRING: DimensionType.STRING,
    MetricType.DATE: DimensionType.DATE,
    MetricType.TIMESTAMP: DimensionType.TIMESTAMP,
    MetricType.BOOLEAN: DimensionType.BOOLEAN,
}


def quoted(name: str) -> exp.Identifier:
    """A quoted identifier (field ids, table aliases)."""
    return exp.to_identifier(name, quoted=True)


def render_query(
    plan: Plan, query: MetricQuery, finalizer: Finalizer, filters: FilterContext
) -> exp.Select:
    """The whole SELECT for a planned query."""
    base = _aggregation(plan, query, finalizer, filters)
    metric_where = _metric_filter(plan, query.filters.metrics, filters)
    if metric_where is None:
        return _order_and_limit(base, plan)
    outer_columns = [exp.column(quoted(fid)) for fid in plan.selected_ids]
    outer = (
        exp.select(*outer_columns if plan.filter_only_metrics else [exp.Star()])
        .from_(METRICS_CTE)
        .where(metric_where)
        .with_(METRICS_CTE, as_=base)
    )
    return _order_and_limit(outer, plan)


def _aggregation(
    plan: Plan, query: MetricQuery, finalizer: Finalizer, filters: FilterContext
) -> exp.Select:
    explore = plan.explore
    selects: list[exp.Expr] = [
        exp.alias_(finalizer.tree(d.sql), quoted(d.id)) for d in plan.dimensions
    ]
    selects += [
        exp.alias_(finalizer.metric(m), quoted(m.id))
        for m in (*plan.metrics, *plan.filter_only_metrics)
    ]
    base_table = explore.tables[explore.base_table]
    select = exp.select(*selects).from_(_relation(base_table.relation, explore.base_table))
    for join in plan.joins:
        select = select.join(_join(plan, join, finalizer), copy=False)
    conditions: list[exp.Expr] = []
    if base_table.sql_where is not None:
        conditions.append(exp.Paren(this=finalizer.tree(base_table.sql_where)))
    dimension_where = _dimension_filter(plan, query, finalizer, filters)
    if dimension_where is not None:
        conditions.append(dimension_where)
    if conditions:
        select = select.where(exp.and_(*conditions), copy=False)
    if plan.dimensions:  # also for dimension-only queries: distinct combinations
        select = select.group_by(
            *[exp.Literal.number(i + 1) for i in range(len(plan.dimensions))], copy=False
        )
    return select


def _relation(relation: exp.Expr, alias: str) -> exp.Expr:
    table = relation.copy()
    table.set("alias", exp.TableAlias(this=quoted(alias)))
    return table


def _join(plan: Plan, join: Join, finalizer: Finalizer) -> exp.Join:
    table = plan.explore.tables[join.table]
    return exp.Join(
        this=_relation(table.relation, join.table),
        on=finalizer.tree(join.on),
        **_JOIN_SIDES[join.type],
    )


def _dimension_filter(
    plan: Plan, query: MetricQuery, finalizer: Finalizer, filters: FilterContext
) -> exp.Expr | None:
    explore = plan.explore

    def condition(rule: FilterRule) -> exp.Expr:
        dim = explore.dimensions[rule.target.field_id]
        sensitive = _first_set(
            dim.case_sensitive,
            explore.tables[dim.table].case_sensitive,
            explore.case_sensitive,
            filters.case_sensitive,
        )
        return filter_condition(
            rule,
            finalizer.tree(dim.sql),
            dim.type,
            dim.id,
            replace(filters, case_sensitive=sensitive),
        )

    return group_condition(query.filters.dimensions, condition)


def _metric_filter(
    plan: Plan, group: AndGroup | OrGroup | None, filters: FilterContext
) -> exp.Expr | None:
    metrics = {m.id: m for m in (*plan.metrics, *plan.filter_only_metrics)}

    def condition(rule: FilterRule) -> exp.Expr:
        metric = metrics[rule.target.field_id]
        column = exp.column(quoted(metric.id))
        # Metric filters always compare case-sensitively (as in Lightdash).
        return filter_condition(
            rule,
            column,
            metric_value_type(plan, metric),
            metric.id,
            replace(filters, case_sensitive=True),
        )

    return group_condition(group, condition)


def metric_value_type(plan: Plan, metric: Metric) -> DimensionType:
    """The type a metric's values have, for filtering them."""
    if metric.type in _METRIC_FILTER_TYPES:
        return _METRIC_FILTER_TYPES[metric.type]
    if metric.type in (MetricType.MIN, MetricType.MAX) and metric.dimension_reference:
        dim = plan.explore.dimensions.get(metric.dimension_reference)
        if dim is not None:
            return dim.type
    return DimensionType.NUMBER


def _first_set(*values: bool | None) -> bool:
    return next((v for v in values if v is not None), True)


def _order_and_limit(select: exp.Select, plan: Plan) -> exp.Select:
    if plan.sorts:
        select = select.order_by(
            *[
                exp.Ordered(
                    this=exp.column(quoted(s.field_id)),
                    desc=s.descending,
                    nulls_first=s.nulls_first,
                )
                for s in plan.sorts
            ],
            copy=False,
        )
    if plan.limit is not None:
        select = select.limit(plan.limit, copy=False)
    return select
