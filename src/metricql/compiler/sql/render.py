"""Plan → sqlglot SELECT tree.

Shape: the aggregation (dimensions, custom dimensions, metrics; FROM, joins, WHERE, GROUP BY).
When the query needs more, the aggregation becomes the `metrics` CTE and the `LAYERS` follow,
each reading the CTE before it: `postcalculation_metrics` (window metrics), `metric_filters`
(WHERE on metrics), `column_totals` (grand totals for total(), read by the calculations), one
`table_calculations_<n>` CTE per dependency level of table calculations; then the final SELECT
of exactly the output columns, with the table-calculation filters, ORDER BY and LIMIT.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from sqlglot import exp

from metricql.compiler.features.calculation_helpers import RUNNING, TOTALS_CTE, total_column, window
from metricql.compiler.features.custom_dimensions import bounds_select
from metricql.compiler.features.table_calculations import levels
from metricql.compiler.plan.plan import Plan
from metricql.compiler.plan.targets import FilteredField
from metricql.compiler.sql.field_sql import Finalizer
from metricql.compiler.sql.filters import FilterContext, filter_condition, group_condition
from metricql.compiler.sql.names import aliased, column, grouped, quoted, safe_ratio
from metricql.compiler.sql.ordering import sort_key
from metricql.compiler.sql.stitch import Stitching, stitched_aggregation
from metricql.compiler.sql.trees import copy_tree
from metricql.query.model import FilterGroup, FilterRule
from metricql.semantic.explore import Join, JoinType
from metricql.semantic.fields import Metric, MetricType
from metricql.semantic.refs import marker_kind, metric_ref_id

METRICS_CTE = "metrics"

_JOIN_SIDES: dict[JoinType, dict[str, str]] = {
    JoinType.LEFT: {"side": "LEFT"},
    JoinType.RIGHT: {"side": "RIGHT"},
    JoinType.FULL: {"side": "FULL"},
    JoinType.INNER: {"kind": "INNER"},
}

Restrict = Callable[[exp.Select], exp.Select]
CTEs = list[tuple[str, exp.Select]]


@dataclass(frozen=True, slots=True)
class _Render:
    """What every part of one query's SELECT reads."""

    plan: Plan
    finalizer: Finalizer
    filters: FilterContext
    metric_where: exp.Expr | None = None
    calc_where: exp.Expr | None = None


def render_query(
    plan: Plan, finalizer: Finalizer, filters: FilterContext, restrict: Restrict | None = None
) -> tuple[exp.Select, Stitching]:
    """The whole SELECT for a planned query, and the pieces of a split aggregation.

    `restrict` may add joins to the aggregation (totals join the groups that pass).
    """
    r = _Render(plan, finalizer, filters)
    base, stitching = _aggregation(r, restrict)
    r = replace(
        r,
        metric_where=_condition(plan.filters.metrics, plan.filters.on_metrics, r),
        calc_where=_condition(plan.filters.table_calculations, plan.filters.on_calculations, r),
    )
    if not _needs_layers(r):
        return _order_and_limit(base, plan, inner=True), stitching
    ctes: CTEs = [(METRICS_CTE, base)]
    source = METRICS_CTE  # the CTE the next layer reads
    for layer in LAYERS:
        added, source = layer(r, source)
        ctes += added
    final = exp.select(*[column(fid) for fid in plan.selected_ids]).from_(source)
    if r.calc_where is not None:
        final = final.where(r.calc_where, copy=False)
    for name, select in ctes:
        final = final.with_(name, as_=select, copy=False)
    return _order_and_limit(final, plan, inner=False), stitching


def _post_metrics(r: _Render, source: str) -> tuple[CTEs, str]:
    if not r.plan.post_metrics:
        return [], source
    post = [aliased(_post_metric(r.plan, m), m.id) for m in r.plan.post_metrics]
    return [("postcalculation_metrics", _star_plus(source, post))], "postcalculation_metrics"


def _metric_filters(r: _Render, source: str) -> tuple[CTEs, str]:
    if r.metric_where is None:
        return [], source
    return [
        ("metric_filters", _star_plus(source, []).where(r.metric_where, copy=False))
    ], "metric_filters"


def _column_totals(r: _Render, source: str) -> tuple[CTEs, str]:
    """Grand totals over the raw rows (not a sum of grouped rows) for total(); a side CTE."""
    totals = sorted({m for c in r.plan.calculations for m in c.totals})
    if not totals:
        return [], source
    metrics = {m.id: m for m in r.plan.aggregated_metrics}
    selects = [aliased(r.finalizer.metric(metrics[m]), total_column(m)) for m in totals]
    return [(TOTALS_CTE, _scan(r).select(*selects))], source


def _calculations(r: _Render, source: str) -> tuple[CTEs, str]:
    ctes: CTEs = []
    for i, level in enumerate(levels(r.plan.calculations)):
        calcs = [aliased(r.finalizer.fresh(c.expression), c.name) for c in level]
        ctes.append((f"table_calculations_{i}", _star_plus(source, calcs)))
        source = ctes[-1][0]
    return ctes, source


# The CTEs after the aggregation, in order: each gets the CTE to read, returns its CTEs and
# the CTE the next one reads.
LAYERS: tuple[Callable[[_Render, str], tuple[CTEs, str]], ...] = (
    _post_metrics,
    _metric_filters,
    _column_totals,
    _calculations,
)


def _needs_layers(r: _Render) -> bool:
    plan = r.plan
    sorts_by_name = any(
        not isinstance(sort_key(plan.explore, plan.all_custom, s.field_id), exp.Column)
        for s in plan.sorts
    )
    return bool(
        plan.post_metrics
        or plan.calculations
        or plan.filter_only_metrics
        or plan.post_calculation_inputs
        or r.metric_where is not None
        or r.calc_where is not None
        or sorts_by_name
        or any(c.order is not None for c in plan.custom_dimensions)
    )


def _star_plus(source: str, extra: list[exp.Expr]) -> exp.Select:
    return exp.select(exp.Star(), *extra).from_(source)


def _aggregation(r: _Render, restrict: Restrict | None) -> tuple[exp.Select, Stitching]:
    plan, finalizer = r.plan, r.finalizer
    selects: list[exp.Expr] = [aliased(finalizer.tree(d.sql), d.id) for d in plan.dimensions]
    selects += [aliased(finalizer.tree(c.select), c.id) for c in plan.custom_dimensions]
    orders = [(c.order, c.order_id) for c in plan.custom_dimensions if c.order is not None]
    selects += [aliased(finalizer.tree(o), oid) for o, oid in orders]
    selects += [aliased(finalizer.metric(m), m.id) for m in plan.aggregated_metrics]
    select = _scan(r).select(*selects, copy=False)
    for c in plan.custom_dimensions:
        if c.bounds is not None:
            parent = finalizer.tree(c.bounds.parent)
            bounds = _scan(r).select(*bounds_select(c.bounds, parent), copy=False)
            select = select.join(quoted(c.bounds.name), join_type="CROSS", copy=False)
            select = select.with_(quoted(c.bounds.name), as_=bounds, copy=False)
    # Also for dimension-only queries: distinct combinations.
    select = grouped(select, len(plan.dimensions) + len(plan.custom_dimensions) + len(orders))
    if restrict is not None:  # before splitting: every piece then carries the restriction
        select = restrict(select)
    # Fan-out and sum/average_distinct: same columns, metrics aggregated apart and stitched.
    return stitched_aggregation(plan, select, finalizer)


def _scan(r: _Render) -> exp.Select:
    """FROM the base table, the planned joins, and WHERE (sql_filter, dimension filters and
    the explore's required filters)."""
    explore = r.plan.explore
    base_table = explore.tables[explore.base_table]
    select = exp.Select().from_(_relation(base_table.relation, explore.base_table))
    for join in r.plan.joins:
        select = select.join(_join(r, join), copy=False)
    conditions: list[exp.Expr] = []
    if base_table.row_filter is not None:
        conditions.append(exp.Paren(this=r.finalizer.tree(base_table.row_filter)))
    if base_table.sql_where is not None:
        conditions.append(exp.Paren(this=r.finalizer.tree(base_table.sql_where)))
    filters = r.plan.filters
    dimension_where = _condition(filters.dimensions, filters.on_dimensions, r)
    if dimension_where is not None:
        conditions.append(dimension_where)
    for rule in filters.required:
        target = filters.on_dimensions[rule.target.field_id]
        conditions.append(exp.paren(_rule_condition(rule, target, r), copy=False))
    if conditions:
        select = select.where(exp.and_(*conditions, copy=False), copy=False)
    return select


def _relation(relation: exp.Expr, alias: str) -> exp.Expr:
    table = copy_tree(relation)
    table.set("alias", exp.TableAlias(this=quoted(alias)))
    return table


def _join(r: _Render, join: Join) -> exp.Join:
    table = r.plan.explore.tables[join.table]
    on = r.finalizer.tree(join.on)
    if table.row_filter is not None:  # the joined rows the user may not see never match
        row_filter = r.finalizer.tree(table.row_filter)
        on = exp.and_(exp.paren(on, copy=False), exp.paren(row_filter, copy=False), copy=False)
    return exp.Join(
        this=_relation(table.relation, join.table),
        on=on,
        **_JOIN_SIDES[join.type],
    )


def _condition(
    group: FilterGroup | None, targets: Mapping[str, FilteredField], r: _Render
) -> exp.Expr | None:
    """The condition of a filter group, each rule on the field it is bound to."""
    return group_condition(
        group, lambda rule: _rule_condition(rule, targets[rule.target.field_id], r)
    )


def _rule_condition(rule: FilterRule, target: FilteredField, r: _Render) -> exp.Expr:
    value = r.finalizer.tree(target.sql) if target.sql is not None else column(target.id)
    return filter_condition(
        rule, value, target.type, target.id, r.filters, case_sensitive=target.case_sensitive
    )


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
        # what select.limit(n) builds, without parsing "LIMIT n"
        select.set("limit", exp.Limit(expression=exp.Literal.number(plan.limit)))
    return select
