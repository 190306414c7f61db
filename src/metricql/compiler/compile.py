"""Compile a metric query against an explore into SQL for one dialect (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone

import sqlglot
from sqlglot import exp

from metricql.compiler.access import check_explore, check_fields, with_user_values
from metricql.compiler.compiled import CompiledField, CompiledQuery
from metricql.compiler.dialects import adapt
from metricql.compiler.expressions import Finalizer, UserContext
from metricql.compiler.fanout import fanout_warnings
from metricql.compiler.filters import FilterContext, filter_condition
from metricql.compiler.plan import Plan, metric_closure, plan_query, rules
from metricql.compiler.render import metric_value_type, render_query
from metricql.compiler.totals import restrict_to_groups, totals_query
from metricql.errors import CompileError, QueryError
from metricql.query.model import MetricQuery
from metricql.semantic.explore import Explore
from metricql.semantic.fields import FieldKind, Metric
from metricql.semantic.refs import MARK

SUPPORTED_DIALECTS = (
    "duckdb",
    "postgres",
    "redshift",
    "snowflake",
    "bigquery",
    "databricks",
    "spark",
    "trino",
    "athena",
    "clickhouse",
)


def compile_query(
    explore: Explore,
    query: MetricQuery,
    *,
    dialect: str = "duckdb",
    user: UserContext | None = None,
    now: datetime | None = None,
    week_start: int | None = None,
    max_limit: int | None = None,
    restrict: Callable[[exp.Select], exp.Select] | None = None,
    extra_tables: frozenset[str] = frozenset(),
    strict: bool = False,
) -> CompiledQuery:
    """SQL and output fields for `query` on `explore`, rendered for `dialect`."""
    if dialect not in SUPPORTED_DIALECTS:
        raise QueryError(
            f"unsupported dialect {dialect!r}",
            hint=f"choose one of: {', '.join(SUPPORTED_DIALECTS)}",
        )
    check_explore(explore, user)
    query = with_user_values(query, user)
    plan = plan_query(
        explore,
        query,
        max_limit=max_limit,
        dialect=explore.source_dialect,
        extra_tables=extra_tables,
    )
    check_fields(
        explore,
        user,
        _referenced_fields(plan, query),
        [explore.base_table, *(j.table for j in plan.joins)],
    )
    filters = FilterContext(
        dialect=dialect,
        now=now or datetime.now(timezone.utc),
        timezone=query.timezone or "UTC",
        week_start=week_start if week_start is not None else 0,
    )
    finalizer = Finalizer(explore, dialect, user=user, week_start=week_start)
    finalizer.metric_filter = lambda m: metric_filter_condition(explore, m, finalizer, filters)
    fanout = fanout_warnings(plan, strict=strict)  # strict: inflated metrics raise
    tree = adapt(render_query(plan, query, finalizer, filters, restrict), dialect)
    try:
        sql = tree.sql(dialect=dialect)  # sqlglot copies: its transforms would mutate our tree
    except (sqlglot.errors.SqlglotError, ValueError) as err:
        raise CompileError(
            f"could not render the query for {dialect}: {err}",
            hint="this is likely a metricql bug; please report it with the query",
            explore=explore.name,
        ) from err
    if MARK.lower() in sql.lower():  # a marker that survived would render as a bogus call
        raise CompileError(
            "an internal reference marker was left unresolved in the SQL",
            hint="this is a metricql bug; please report it with the query",
            explore=explore.name,
        )
    return CompiledQuery(
        sql=sql,
        dialect=dialect,
        fields=_fields(plan),
        explore=explore.name,
        tree=tree,
        warnings=(*explore.warnings, *fanout),
    )


def compile_totals(
    explore: Explore,
    query: MetricQuery,
    *,
    dialect: str = "duckdb",
    user: UserContext | None = None,
    now: datetime | None = None,
    week_start: int | None = None,
) -> CompiledQuery:
    """One query returning the grand total of every metric (and totalable calculation)."""
    derived = totals_query(query)
    restrict = None
    tables: frozenset[str] = frozenset()
    if query.filters.metrics is not None or query.filters.table_calculations is not None:
        groups = compile_query(
            explore,
            query.model_copy(update={"sorts": (), "limit": None}),
            dialect=dialect,
            user=user,
            now=now,
            week_start=week_start,
        )
        plan = plan_query(explore, query, dialect=explore.source_dialect)
        finalizer = Finalizer(explore, dialect, user=user, week_start=week_start)
        keys = [(finalizer.tree(d.sql), d.id) for d in plan.dimensions]
        keys += [(finalizer.tree(c.select), c.id) for c in plan.custom_dimensions]
        restrict = lambda agg: restrict_to_groups(agg, groups, keys)  # noqa: E731
        tables = frozenset(j.table for j in plan.joins)  # the group keys read these tables
    return compile_query(
        explore,
        derived,
        dialect=dialect,
        user=user,
        now=now,
        week_start=week_start,
        restrict=restrict,
        extra_tables=tables,
    )


def _referenced_fields(plan: Plan, query: MetricQuery) -> list[str]:
    """Every explore field id the query reads: selected, filtered, required, referenced."""
    ids = [d.id for d in plan.dimensions]
    ids += [r.target.field_id for r in rules(query.filters.dimensions)]
    ids += [r.target.field_id for r in plan.required_filters]
    read = (*plan.metrics, *plan.filter_only_metrics, *plan.hidden_metrics)
    for metric in metric_closure(plan.explore, read):
        ids.append(metric.id)
        ids += [r.target.field_id for r in metric.filters]
    return ids


def _fields(plan: Plan) -> tuple[CompiledField, ...]:
    dims = tuple(
        CompiledField(
            id=d.id,
            label=d.label,
            type=d.type.value,
            kind=FieldKind.DIMENSION,
            table=d.table,
            table_label=d.table_label,
            format=d.format,
            round=d.round,
            time_interval=d.time_interval.value if d.time_interval else None,
        )
        for d in plan.dimensions
    )
    custom = tuple(
        CompiledField(id=c.id, label=c.label, type=c.type.value, kind=FieldKind.CUSTOM_DIMENSION)
        for c in plan.custom_dimensions
    )
    metrics = tuple(
        CompiledField(
            id=m.id,
            label=m.label,
            type=metric_value_type(plan, m).value,
            kind=FieldKind.METRIC,
            table=m.table,
            table_label=m.table_label,
            format=m.format,
            round=m.round,
        )
        for m in plan.metrics
    )
    calcs = tuple(
        CompiledField(
            id=c.name,
            label=c.label,
            type=c.type.value if c.type else "number",
            kind=FieldKind.TABLE_CALCULATION,
            format=c.format,
        )
        for c in plan.calculations
    )
    return dims + custom + metrics + calcs


def metric_filter_condition(
    explore: Explore, metric: Metric, finalizer: Finalizer, filters: FilterContext
) -> exp.Expr | None:
    """CASE WHEN condition from a metric's filters (all AND-ed), or None."""
    conditions = []
    for rule in metric.filters:
        dim = explore.dimensions[rule.target.field_id]
        sensitive = dim.case_sensitive if dim.case_sensitive is not None else filters.case_sensitive
        conditions.append(
            filter_condition(
                rule,
                finalizer.tree(dim.sql),
                dim.type,
                dim.id,
                replace(filters, case_sensitive=sensitive),
            )
        )
    return exp.and_(*conditions) if conditions else None
