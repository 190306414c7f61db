"""A JSON-able account of how one query compiles: joins and why, fan-out, metrics, filters."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from metricql.compiler.compile import compilation
from metricql.compiler.options import CompileOptions
from metricql.compiler.plan.fanout import Route
from metricql.compiler.plan.joins import JoinReason
from metricql.compiler.plan.plan import Plan
from metricql.compiler.sql.stitch import JOINED, Stitching, piece_name, rows_name
from metricql.query.model import MetricQuery, rules
from metricql.semantic.explore import Explore
from metricql.semantic.fields import Metric

AGGREGATION = "aggregation"  # the single GROUP BY select, when nothing is split
STITCHED = "stitched select"  # the select joining the pieces on the dimensions

MetricRole = Literal["selected", "filter_only", "post_calculation_input", "referenced"]
FilterKind = Literal[
    "sql_filter",
    "dimension_filter",
    "required_filter",
    "metric_filter",
    "table_calculation_filter",
    "metric_definition",  # a metric's own YAML filters
]


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
    role: MetricRole
    route: str  # a fanout.Route value, or "post_calculation"
    computed_in: str  # CTE name, "aggregation" or "stitched select"
    detail: str


@dataclass(frozen=True, slots=True)
class FilterExplanation:
    """Where one filter is applied."""

    kind: FilterKind
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


def explain_query(explore: Explore, query: MetricQuery, options: CompileOptions) -> Explanation:
    """Compile `query` and describe the result, from its plan (never from the SQL text)."""
    compiled = compilation(explore, query, options)
    plan, fan, stitching = compiled.plan, compiled.plan.fanout, compiled.stitching
    return Explanation(
        explore=explore.name,
        base_table=explore.base_table,
        dialect=options.dialect,
        joins=_joins(plan),
        inflated_tables={t: sorted(m) for t, m in sorted(fan.inflation.multipliers.items())},
        rewritten=fan.rewrites,
        metrics=_metrics(plan, stitching),
        filters=_filters(plan, stitching),
        warnings=compiled.result.warnings,
        sql=compiled.result.sql,
    )


def _joins(plan: Plan) -> tuple[JoinExplanation, ...]:
    explore = plan.explore
    repeats = {j.table: sorted(j.repeats) for j in plan.fanout.inflation.joins}
    return tuple(
        JoinExplanation(
            table=join.table,
            model=explore.tables[join.table].original_name,
            type=join.type.value,
            relationship=join.relationship.value if join.relationship else None,
            reasons=plan.join_reasons[join.table],
            repeats=tuple(repeats.get(join.table, ())),
        )
        for join in plan.joins
    )


def _metrics(plan: Plan, stitching: Stitching) -> tuple[MetricExplanation, ...]:
    fan = plan.fanout
    roles: dict[str, MetricRole] = {m.id: "selected" for m in plan.metrics}
    roles.update({m.id: "filter_only" for m in plan.filter_only_metrics})
    roles.update({m.id: "post_calculation_input" for m in plan.post_calculation_inputs})
    out = []
    for metric in (*plan.closure.metrics, *plan.post_metrics):
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
                f"; aggregated over {rows}, which holds each of its rows once per group"
                if rows in stitching.ctes
                else "; the joins its piece reads do not repeat it, so it aggregates directly"
            )
        elif route.route is Route.DISTINCT:
            where = piece_name(Route.DISTINCT, metric.id)
        else:  # a count_distinct/min/max may go with its table's own piece
            where = dict(stitching.owners).get(metric.id, JOINED)
        out.append(_explained(metric, role, route.route.value, where, detail))
    return tuple(out)


def _explained(
    metric: Metric, role: MetricRole, route: str, where: str, detail: str
) -> MetricExplanation:
    return MetricExplanation(
        id=metric.id,
        table=metric.table,
        type=metric.type.value,
        role=role,
        route=route,
        computed_in=where,
        detail=detail,
    )


def _filters(plan: Plan, stitching: Stitching) -> tuple[FilterExplanation, ...]:
    explore, fan, filters = plan.explore, plan.fanout, plan.filters
    scans = stitching.scans if fan.rewrites else (AGGREGATION,)
    every_scan = "WHERE of every scan of the joined rows"
    out = []
    if explore.tables[explore.base_table].sql_where is not None:
        out.append(FilterExplanation("sql_filter", explore.base_table, every_scan, scans))
    for rule in rules(filters.dimensions):
        out.append(FilterExplanation("dimension_filter", rule.target.field_id, every_scan, scans))
    for rule in filters.required:
        out.append(FilterExplanation("required_filter", rule.target.field_id, every_scan, scans))
    for rule in rules(filters.metrics):
        out.append(
            FilterExplanation(
                "metric_filter",
                rule.target.field_id,
                "WHERE over the aggregated metrics (metric_filters CTE), after any stitching",
                ("metric_filters",),
            )
        )
    for rule in rules(filters.table_calculations):
        out.append(
            FilterExplanation(
                "table_calculation_filter",
                rule.target.field_id,
                "WHERE of the final select",
            )
        )
    for metric in plan.closure.metrics:
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
                    (rows if rows in stitching.ctes else where,),
                )
            )
    return tuple(out)
