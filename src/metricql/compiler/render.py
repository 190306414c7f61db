"""Plan → sqlglot SELECT tree.

Shape: the aggregation (dimensions, custom dimensions, metrics; FROM, joins, WHERE, GROUP BY).
When the query needs more, the aggregation becomes the `metrics` CTE and layers follow:
`postcalculation_metrics` (window metrics), `metric_filters` (WHERE on metrics), one
`table_calculations_<n>` CTE per dependency level of table calculations, then the final SELECT
of exactly the output columns, with the table-calculation filters, ORDER BY and LIMIT.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sqlglot import exp

from metricql.compiler.custom_dimensions import CustomDim, bounds_select
from metricql.compiler.expressions import Finalizer
from metricql.compiler.filters import (
    FilterContext,
    case_sensitive,
    filter_condition,
    group_condition,
)
from metricql.compiler.names import column, grouped, quoted, safe_ratio
from metricql.compiler.plan import Plan, sort_key
from metricql.compiler.stitch import stitched_aggregation
from metricql.compiler.table_calculations import RUNNING, TOTALS_CTE, levels, total_column, window
from metricql.query.model import AndGroup, FilterRule, MetricQuery, OrGroup
from metricql.semantic.explore import Join, JoinType
from metricql.semantic.fields import DimensionType, Metric, MetricType
from metricql.semantic.refs import marker_kind, metric_ref_id

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


def render_query(
    plan: Plan,
    query: MetricQuery,
    finalizer: Finalizer,
    filters: FilterContext,
    restrict: Callable[[exp.Select], exp.Select] | None = None,
) -> exp.Select:
    """The whole SELECT for a planned query; `restrict` may add joins to the aggregation."""
    base = _aggregation(plan, query, finalizer, filters, restrict)
    metric_where = _metric_filter(plan, query.filters.metrics, filters)
    calc_where = _calculation_filter(plan, query.filters.table_calculations, filters)
    if not _needs_layers(plan, metric_where, calc_where):
        return _order_and_limit(base, plan, inner=True)
    ctes: list[tuple[str, exp.Select]] = [(METRICS_CTE, base)]
    source = METRICS_CTE  # the CTE the next layer reads

    def layer(name: str, select: exp.Select) -> None:
        nonlocal source
        ctes.append((name, select))
        source = name

    if plan.post_metrics:
        post = [
            exp.alias_(_post_metric(plan, m), quoted(m.id), copy=False) for m in plan.post_metrics
        ]
        layer("postcalculation_metrics", _star_plus(source, post))
    if metric_where is not None:
        layer("metric_filters", exp.select("*").from_(source).where(metric_where))
    totals = sorted({m for c in plan.calculations for m in c.totals})
    if totals:  # grand totals over raw rows (not a sum of grouped rows) for total()
        metrics = {m.id: m for m in plan.aggregated_metrics}
        selects = [
            exp.alias_(finalizer.metric(metrics[m]), quoted(total_column(m)), copy=False)
            for m in totals
        ]
        ctes.append((TOTALS_CTE, _scan(plan, query, finalizer, filters).select(*selects)))
    for i, level in enumerate(levels(plan.calculations)):
        calcs = [exp.alias_(c.expression.copy(), quoted(c.name), copy=False) for c in level]
        layer(f"table_calculations_{i}", _star_plus(source, calcs))
    final = exp.select(*[column(fid) for fid in plan.selected_ids]).from_(source)
    if calc_where is not None:
        final = final.where(calc_where, copy=False)
    for name, select in ctes:
        final = final.with_(name, as_=select, copy=False)
    return _order_and_limit(final, plan, inner=False)


def _needs_layers(plan: Plan, metric_where: exp.Expr | None, calc_where: exp.Expr | None) -> bool:
    sorts_by_name = any(
        not isinstance(sort_key(plan.explore, plan.all_custom, s.field_id), exp.Column)
        for s in plan.sorts
    )
    return bool(
        plan.post_metrics
        or plan.calculations
        or plan.filter_only_metrics
        or plan.hidden_metrics
        or metric_where is not None
        or calc_where is not None
        or sorts_by_name
        or any(c.order is not None for c in plan.custom_dimensions)
    )


def _star_plus(source: str, extra: list[exp.Expr]) -> exp.Select:
    return exp.select(exp.Star(), *extra).from_(source)


def _aggregation(
    plan: Plan,
    query: MetricQuery,
    finalizer: Finalizer,
    filters: FilterContext,
    restrict: Callable[[exp.Select], exp.Select] | None = None,
) -> exp.Select:
    selects: list[exp.Expr] = [
        exp.alias_(finalizer.tree(d.sql), quoted(d.id), copy=False) for d in plan.dimensions
    ]
    selects += [
        exp.alias_(finalizer.tree(c.select), quoted(c.id), copy=False)
        for c in plan.custom_dimensions
    ]
    orders = [c for c in plan.custom_dimensions if c.order is not None]
    selects += [exp.alias_(finalizer.tree(c.order), quoted(c.order_id), copy=False) for c in orders]  # type: ignore[arg-type]
    selects += [
        exp.alias_(finalizer.metric(m), quoted(m.id), copy=False) for m in plan.aggregated_metrics
    ]
    scan = _scan(plan, query, finalizer, filters)
    select = scan.select(*selects, copy=False)
    bins = [c for c in plan.custom_dimensions if c.bounds is not None]
    for c in bins:
        assert c.bounds is not None
        bounds = _scan(plan, query, finalizer, filters).select(
            *bounds_select(c.bounds, finalizer.tree(c.bounds.parent)), copy=False
        )
        select = select.join(quoted(c.bounds.name), join_type="CROSS", copy=False)
        select = select.with_(quoted(c.bounds.name), as_=bounds, copy=False)
    # Also for dimension-only queries: distinct combinations.
    select = grouped(select, len(plan.dimensions) + len(plan.custom_dimensions) + len(orders))
    # Fan-out and sum/average_distinct: same columns, metrics aggregated apart and stitched.
    if restrict is not None:  # before splitting: every piece then carries the restriction
        select = restrict(select)
    return stitched_aggregation(plan, select, finalizer)


def _scan(
    plan: Plan, query: MetricQuery, finalizer: Finalizer, filters: FilterContext
) -> exp.Select:
    """FROM the base table, the planned joins, and WHERE (sql_filter and dimension filters)."""
    explore = plan.explore
    base_table = explore.tables[explore.base_table]
    select = exp.Select().from_(_relation(base_table.relation, explore.base_table))
    for join in plan.joins:
        select = select.join(_join(plan, join, finalizer), copy=False)
    conditions: list[exp.Expr] = []
    if base_table.sql_where is not None:
        conditions.append(exp.Paren(this=finalizer.tree(base_table.sql_where)))
    dimension_where = _dimension_filter(plan, query, finalizer, filters)
    if dimension_where is not None:
        conditions.append(dimension_where)
    for rule in plan.required_filters:  # the model's required_filters, not overridden
        dim = explore.dimensions[rule.target.field_id]
        sensitive = replace(filters, case_sensitive=case_sensitive(explore, dim))
        condition = filter_condition(rule, finalizer.tree(dim.sql), dim.type, dim.id, sensitive)
        conditions.append(exp.paren(condition, copy=False))
    if conditions:
        select = select.where(exp.and_(*conditions, copy=False), copy=False)
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
        custom: CustomDim | None = plan.all_custom.get(rule.target.field_id)
        if custom is not None:
            return filter_condition(
                rule, finalizer.tree(custom.select), custom.type, custom.id, filters
            )
        dim = explore.dimensions[rule.target.field_id]
        sensitive = replace(filters, case_sensitive=case_sensitive(explore, dim))
        return filter_condition(rule, finalizer.tree(dim.sql), dim.type, dim.id, sensitive)

    return group_condition(query.filters.dimensions, condition)


def _metric_filter(
    plan: Plan, group: AndGroup | OrGroup | None, filters: FilterContext
) -> exp.Expr | None:
    metrics = {m.id: m for m in (*plan.metrics, *plan.filter_only_metrics)}

    def condition(rule: FilterRule) -> exp.Expr:
        metric = metrics[rule.target.field_id]
        # Metric filters always compare case-sensitively (as in Lightdash).
        return filter_condition(
            rule,
            column(metric.id),
            metric_value_type(plan, metric),
            metric.id,
            replace(filters, case_sensitive=True),
        )

    return group_condition(group, condition)


def _calculation_filter(
    plan: Plan, group: AndGroup | OrGroup | None, filters: FilterContext
) -> exp.Expr | None:
    calcs = {c.name: c for c in plan.calculations}

    def condition(rule: FilterRule) -> exp.Expr:
        calc = calcs.get(rule.target.field_id)
        if calc is None:
            from metricql.errors import UnknownFieldError

            raise UnknownFieldError(
                f"table calculation filter references {rule.target.field_id!r}, "
                "which is not a table calculation of the query",
                hint=f"table calculations: {', '.join(calcs) or 'none'}",
                field=rule.target.field_id,
            )
        kind = calc.type or DimensionType.STRING
        return filter_condition(
            rule, column(calc.name), kind, calc.name, replace(filters, case_sensitive=True)
        )

    return group_condition(group, condition)


def _post_metric(plan: Plan, metric: Metric) -> exp.Expr:
    """Window expression of a post-calculation metric over the aggregated metrics."""
    inner = metric.sql.transform(
        lambda n: column(metric_ref_id(n)) if marker_kind(n) == "metric" else n
    )
    order = [
        (s.field_id, s.descending)
        for s in plan.sorts
        if s.field_id not in {m.id for m in plan.post_metrics}
        and s.field_id not in {c.name for c in plan.calculations}
    ]
    if metric.type is MetricType.RUNNING_TOTAL:
        return window(exp.Sum(this=inner), order=order, spec=RUNNING.copy())
    ratio_to: exp.Expr
    if metric.type is MetricType.PERCENT_OF_TOTAL:
        ratio_to = window(exp.Sum(this=inner.copy()))
    else:
        ratio_to = window(exp.Lag(this=inner.copy()), order=order)
    ratio = safe_ratio(inner, ratio_to)
    if metric.type is MetricType.PERCENT_OF_PREVIOUS:
        return exp.Sub(this=ratio, expression=exp.Literal.number(1))
    return ratio


def metric_value_type(plan: Plan, metric: Metric) -> DimensionType:
    """The type a metric's values have, for filtering them."""
    if metric.type in _METRIC_FILTER_TYPES:
        return _METRIC_FILTER_TYPES[metric.type]
    if metric.type in (MetricType.MIN, MetricType.MAX) and metric.dimension_reference:
        dim = plan.explore.dimensions.get(metric.dimension_reference)
        if dim is not None:
            return dim.type
    return DimensionType.NUMBER


def _order_and_limit(select: exp.Select, plan: Plan, *, inner: bool) -> exp.Select:
    if plan.sorts:
        items = []
        for s in plan.sorts:
            target = None if inner else sort_key(plan.explore, plan.all_custom, s.field_id)
            items.append(
                exp.Ordered(
                    this=target if target is not None else column(s.field_id),
                    desc=s.descending,
                    nulls_first=s.nulls_first,
                )
            )
        select = select.order_by(*items, copy=False)
    if plan.limit is not None:
        select = select.limit(plan.limit, copy=False)
    return select
