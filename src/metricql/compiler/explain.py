"""A JSON-able account of how one query compiles: joins and why, fan-out, metrics, filters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlglot import exp

from metricql.compiler.compile import compile_query
from metricql.compiler.expressions import UserContext
from metricql.compiler.fanout import FanOutPlan, Route, fanout_plan
from metricql.compiler.plan import Plan, metric_closure, plan_query
from metricql.compiler.stitch import JOINED, piece_name, rows_name
from metricql.query.model import MetricQuery, rules
from metricql.semantic.explore import Explore
from metricql.semantic.fields import Metric

AGGREGATION = "aggregation"  # the single GROUP BY select, when nothing is split
STITCHED = "stitched select"  # the select joining the pieces on the dimensions


@dataclass(frozen=True, slots=True)
class JoinReason:
    """Why a table is joined: `kind` of use and the field (or table) behind it."""

    kind: str  # dimension, custom_dimension, metric, metric_filter, dimension_filter,
    # required_filter, sql_filter, always, connects (needed to reach another join), other
    field: str | None = None


@dataclass(frozen=True, slots=True)
class JoinExplanation:
    """One join of the query."""

    table: str
    model: str
    type: str
    relationship: str | None
    reasons: tuple[JoinReason, ...]
    repeats: tuple[str, ...]  # tables whose rows this join repeats in this query


@dataclass(frozen=True, slots=True)
class MetricExplanation:
    """Where and how one metric is computed."""

    id: str
    table: str
    type: str
    role: str  # selected, filter_only, post_calculation_input, referenced
    route: str  # a fanout.Route value, or post_calculation
    computed_in: str  # CTE name, "aggregation" or "stitched select"
    detail: str


@dataclass(frozen=True, slots=True)
class FilterExplanation:
    """Where one filter is applied."""

    kind: str  # sql_filter, dimension_filter, required_filter, metric_filter,
    # table_calculation_filter, metric_definition (a metric's own YAML filters)
    target: str
    placement: str
    scans: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Explanation:
    """How a query compiles (see `Project.explain`)."""

    explore: str
    base_table: str
    dialect: str
    joins: tuple[JoinExplanation, ...]
    inflated_tables: dict[str, list[str]]  # repeated table → tables whose rows repeat it
    rewritten: bool  # True when the aggregation was split into pieces stitched on dimensions
    metrics: tuple[MetricExplanation, ...]
    filters: tuple[FilterExplanation, ...]
    warnings: tuple[str, ...]
    sql: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (tuples become lists)."""
        return _plain(asdict(self))  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def explain_query(
    explore: Explore,
    query: MetricQuery,
    *,
    dialect: str = "duckdb",
    user: UserContext | None = None,
    now: datetime | None = None,
    week_start: int | None = None,
    max_limit: int | None = None,
) -> Explanation:
    """Compile `query` and describe the result."""
    compiled = compile_query(
        explore,
        query,
        dialect=dialect,
        user=user,
        now=now,
        week_start=week_start,
        max_limit=max_limit,
    )
    plan = plan_query(explore, query, max_limit=max_limit, dialect=explore.source_dialect)
    fan = fanout_plan(plan)
    ctes = [c.alias for c in compiled.tree.find_all(exp.CTE)]
    scans = _scans(compiled.tree) if fan.rewrites else (AGGREGATION,)
    return Explanation(
        explore=explore.name,
        base_table=explore.base_table,
        dialect=dialect,
        joins=_joins(plan, query, fan),
        inflated_tables={t: sorted(m) for t, m in sorted(fan.inflation.multipliers.items())},
        rewritten=fan.rewrites,
        metrics=_metrics(plan, fan, ctes),
        filters=_filters(plan, query, fan, scans, ctes),
        warnings=compiled.warnings,
        sql=compiled.sql,
    )


def _joins(plan: Plan, query: MetricQuery, fan: FanOutPlan) -> tuple[JoinExplanation, ...]:
    explore = plan.explore
    reasons: dict[str, list[JoinReason]] = {}

    def add(tables: Iterable[str], kind: str, field: str | None) -> None:
        for table in tables:
            found = reasons.setdefault(table, [])
            if JoinReason(kind, field) not in found:
                found.append(JoinReason(kind, field))

    for dim in plan.dimensions:
        add(dim.tables_references or {dim.table}, "dimension", dim.id)
    for custom in plan.custom_dimensions:
        add(custom.tables, "custom_dimension", custom.id)
    for kind, metrics in (
        ("metric", (*plan.metrics, *plan.hidden_metrics)),
        ("metric_filter", plan.filter_only_metrics),
    ):
        for metric in metric_closure(explore, metrics):
            add(metric.tables_references or {metric.table}, kind, metric.id)
            for rule in metric.filters:
                dim = explore.dimensions[rule.target.field_id]
                add(dim.tables_references or {dim.table}, kind, metric.id)
    filtered = [
        *(("dimension_filter", r.target.field_id) for r in rules(query.filters.dimensions)),
        *(("required_filter", r.target.field_id) for r in plan.required_filters),
    ]
    for kind, fid in filtered:
        filtered_dim = explore.dimensions.get(fid)
        filtered_custom = plan.all_custom.get(fid)
        if filtered_dim is not None:
            add(filtered_dim.tables_references or {filtered_dim.table}, kind, fid)
        elif filtered_custom is not None:
            add(filtered_custom.tables, kind, fid)
    add(explore.tables[explore.base_table].sql_where_tables, "sql_filter", explore.base_table)
    for join in plan.joins:
        if join.always:
            add([join.table], "always", None)
        add(join.tables_references - {explore.base_table}, "connects", join.table)
    repeats = {j.table: sorted(j.repeats) for j in fan.inflation.joins}
    return tuple(
        JoinExplanation(
            table=join.table,
            model=explore.tables[join.table].original_name,
            type=join.type.value,
            relationship=join.relationship.value if join.relationship else None,
            reasons=tuple(reasons.get(join.table) or [JoinReason("other")]),
            repeats=tuple(repeats.get(join.table, ())),
        )
        for join in plan.joins
    )


def _metrics(plan: Plan, fan: FanOutPlan, ctes: list[str]) -> tuple[MetricExplanation, ...]:
    roles = {m.id: "selected" for m in plan.metrics}
    roles.update({m.id: "filter_only" for m in plan.filter_only_metrics})
    roles.update({m.id: "post_calculation_input" for m in plan.hidden_metrics})
    out = []
    closure = metric_closure(plan.explore, (*plan.aggregated_metrics, *plan.post_metrics))
    for metric in closure:
        role = roles.get(metric.id, "referenced")
        if metric.is_post_calculation:
            out.append(
                _explained(
                    metric,
                    role,
                    "post_calculation",
                    "postcalculation_metrics",
                    "a window over the aggregated metrics",
                )
            )
            continue
        route = fan.routes[metric.id]
        detail = route.reason
        if not fan.rewrites:
            where = AGGREGATION if role != "referenced" else f"{AGGREGATION} (inlined)"
        elif route.route is Route.COMBINED:
            where = STITCHED
        elif route.route is Route.OWN_GRAIN:
            where = piece_name(Route.OWN_GRAIN, metric.table)
            rows = rows_name(Route.OWN_GRAIN, metric.table)
            detail += (
                f"; aggregated over the DISTINCT rows of {rows}"
                if rows in ctes
                else "; the joins its piece reads do not repeat it, so it aggregates directly"
            )
        elif route.route is Route.DISTINCT:
            where = piece_name(Route.DISTINCT, metric.id)
        else:
            where = JOINED
        out.append(_explained(metric, role, route.route.value, where, detail))
    return tuple(out)


def _explained(metric: Metric, role: str, route: str, where: str, detail: str) -> MetricExplanation:
    return MetricExplanation(
        id=metric.id,
        table=metric.table,
        type=metric.type.value,
        role=role,
        route=route,
        computed_in=where,
        detail=detail,
    )


def _filters(
    plan: Plan, query: MetricQuery, fan: FanOutPlan, scans: tuple[str, ...], ctes: list[str]
) -> tuple[FilterExplanation, ...]:
    explore = plan.explore
    every_scan = "WHERE of every scan of the joined rows"
    out = []
    if explore.tables[explore.base_table].sql_where is not None:
        out.append(FilterExplanation("sql_filter", explore.base_table, every_scan, scans))
    for rule in rules(query.filters.dimensions):
        out.append(FilterExplanation("dimension_filter", rule.target.field_id, every_scan, scans))
    for rule in plan.required_filters:
        out.append(FilterExplanation("required_filter", rule.target.field_id, every_scan, scans))
    for rule in rules(query.filters.metrics):
        out.append(
            FilterExplanation(
                "metric_filter",
                rule.target.field_id,
                "WHERE over the aggregated metrics (metric_filters CTE), after any stitching",
                ("metric_filters",),
            )
        )
    for rule in rules(query.filters.table_calculations):
        out.append(
            FilterExplanation(
                "table_calculation_filter",
                rule.target.field_id,
                "WHERE of the final select",
            )
        )
    for metric in metric_closure(explore, plan.aggregated_metrics):
        if metric.is_aggregate and metric.filters:
            route = fan.routes[metric.id].route
            owner = metric.table if route is Route.OWN_GRAIN else metric.id
            where = piece_name(route, owner) if fan.rewrites else AGGREGATION
            rows = rows_name(route, owner)
            targets = ", ".join(r.target.field_id for r in metric.filters)
            out.append(
                FilterExplanation(
                    "metric_definition",
                    metric.id,
                    f"CASE WHEN ({targets}) inside the aggregate of {metric.id}, in {where}",
                    (rows if rows in ctes else where,),
                )
            )
    return tuple(out)


def _scans(tree: exp.Expr) -> tuple[str, ...]:
    """CTEs of a split aggregation that read the joined rows (not another CTE)."""
    ctes = list(tree.find_all(exp.CTE))
    names = {c.alias for c in ctes}
    return tuple(
        c.alias
        for c in ctes
        if (c.alias == JOINED or c.alias.startswith(("fanout_", "distinct_")))
        and _source(c) not in names
    )


def _source(cte: exp.CTE) -> str | None:
    source = cte.this.args.get("from_")
    return source.this.name if source is not None else None
