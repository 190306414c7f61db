"""Grand totals of a query (Lightdash's CalculateTotalFromQuery), in one extra query.

Every metric is recomputed over the raw rows the query covers — never summed from grouped
rows, so count_distinct and averages are right. Metric and table-calculation filters restrict
*which groups* count: the raw rows are inner-joined (NULL-safe) to the groups that pass. The
query is planned once: the totals are derived from the plan of the grouped query.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from sqlglot import exp

from metricql.compiler.compile import Compilation, checked_plan, compilation, compile_plan
from metricql.compiler.compiled import CompiledQuery, with_changes
from metricql.compiler.features.calculation_helpers import HELPERS, UNSUPPORTED
from metricql.compiler.features.table_calculations import result_field
from metricql.compiler.options import CompileOptions
from metricql.compiler.plan.lookup import query_sorts, unique
from metricql.compiler.plan.plan import Plan
from metricql.compiler.sql.names import column, quoted
from metricql.errors import CompileError, QueryError
from metricql.query.model import FilterGroup, Filters, MetricQuery, TableCalculation, rules
from metricql.semantic.explore import Explore
from metricql.semantic.parameters import parameter_name
from metricql.semantic.refs import parse_snippet

_WINDOWED = (exp.Window, exp.AggFunc)
PASSING = "passing_groups"
_HELPERS = frozenset(HELPERS) | UNSUPPORTED


def compile_totals(explore: Explore, query: MetricQuery, options: CompileOptions) -> CompiledQuery:
    """One query returning the grand total of every metric (and totalable calculation)."""
    options = options.with_query_parameters(query.parameters)  # one set of values throughout
    if options.user is not None:  # the totals of a query the user may not run are refused too
        checked_plan(explore, query, options)
    derived = totals_query(query, explore.source_dialect)
    if query.filters.metrics is None and query.filters.table_calculations is None:
        return compilation(explore, derived, options).result
    flat = {"sorts": (), "limit": None, "pivot_configuration": None}  # the groups, unpivoted
    groups = compilation(explore, query.model_copy(update=flat), options, keep_tree=True)
    keys = _group_keys(groups)
    totals = compile_plan(
        totals_plan(groups.plan, derived),
        options,
        restrict=lambda agg: restrict_to_groups(agg, groups.result, keys),
    ).result
    used = {**groups.result.parameters, **totals.parameters}  # the groups' SQL is inside
    return with_changes(totals, parameters=MappingProxyType(used))


def totals_query(query: MetricQuery, dialect: str) -> MetricQuery:
    """The derived query: no dimensions, sorts or limit; only totalable table calculations."""
    calcs = tuple(c for c in query.table_calculations if _totalable(c, query, dialect))
    if not query.metrics and not calcs:
        raise QueryError(
            "Nothing to total: the query has no metrics or totalable table calculations",
            hint="select at least one metric",
        )
    return query.model_copy(
        update={
            "dimensions": (),
            "custom_dimensions": tuple(
                c for c in query.custom_dimensions if _targets(query.filters.dimensions, c.id)
            ),
            "sorts": (),
            "limit": None,
            "table_calculations": calcs,
            "filters": Filters(dimensions=query.filters.dimensions),
            "pivot_configuration": None,  # grand totals of the metrics, as Lightdash's
            "date_zoom": None,  # no dimension left to zoom
        }
    )


def totals_plan(grouped: Plan, derived: MetricQuery) -> Plan:
    """The plan of `derived` (see `totals_query`) taken from the plan of the grouped query.

    Same joins: the groups the totals keep are read through the grouped query's tables. The
    metrics are those selected and their post-calculation inputs; their closure and fan-out
    routes are the grouped plan's, restricted (a route depends on the metric and the joins).
    """
    selected = {m.id for m in grouped.metrics}
    post_inputs = unique(r for m in grouped.post_metrics for r in sorted(m.metric_references))
    hidden = tuple(grouped.closure.by_id[r] for r in post_inputs if r not in selected)
    aggregated = (*(m for m in grouped.metrics if not m.is_post_calculation), *hidden)
    closure = grouped.closure.sub(aggregated)
    keep = {c.name for c in derived.table_calculations}
    calcs = tuple(c for c in grouped.calculations if c.name in keep)
    outputs = [m.id for m in grouped.metrics] + [c.name for c in calcs]
    return replace(
        grouped,
        dimensions=(),
        custom_dimensions=(),
        filter_only_metrics=(),
        post_calculation_inputs=hidden,
        sorts=query_sorts(derived, (), grouped.metrics, outputs),
        limit=None,
        closure=closure,
        fanout=grouped.fanout.restricted(closure),
        calculations=calcs,
        filters=replace(grouped.filters, metrics=None, table_calculations=None),
        pivot=None,
    )


def _group_keys(groups: Compilation) -> list[tuple[exp.Expr, str]]:
    """Each grouping column of the grouped query: its SQL over the raw rows, and its id."""
    plan, finalizer = groups.plan, groups.finalizer
    keys = [(finalizer.tree(d.sql), d.id) for d in plan.dimensions]
    return keys + [(finalizer.tree(c.select), c.id) for c in plan.custom_dimensions]


def _targets(group: FilterGroup | None, fid: str) -> bool:
    return any(r.target.field_id == fid for r in rules(group))


def _totalable(calc: TableCalculation, query: MetricQuery, dialect: str) -> bool:
    """SQL calculations over metrics only, without window or aggregate functions."""
    if calc.sql is None:
        return False
    metrics = set(query.metrics)
    try:
        snippet = parse_snippet(calc.sql, dialect, field=calc.name)
    except CompileError:
        return False
    if not snippet.refs:
        return False
    if any(parameter_name(r) is None and result_field(r, metrics) is None for r in snippet.refs):
        return False
    if any(True for _ in snippet.tree.find_all(*_WINDOWED)):
        return False
    # Row and total helpers (row(), total(), offset() …) have no meaning on a totals row.
    return not any(str(f.this).lower() in _HELPERS for f in snippet.tree.find_all(exp.Anonymous))


def restrict_to_groups(
    totals: exp.Select, groups: CompiledQuery, keys: list[tuple[exp.Expr, str]]
) -> exp.Select:
    """INNER JOIN the aggregation `totals` to the distinct groups of the original query."""
    columns: list[exp.Expr] = [column(fid) for _, fid in keys]
    passing = exp.select(*(columns or [exp.Literal.number(1)]))
    passing = passing.distinct().from_(
        exp.Subquery(this=groups.tree.copy(), alias=exp.TableAlias(this=exp.to_identifier("q")))
    )
    on = (
        exp.and_(
            *[
                exp.NullSafeEQ(
                    this=expr.copy(),
                    expression=exp.column(quoted(fid), table=exp.to_identifier(PASSING)),
                )
                for expr, fid in keys
            ]
        )
        if keys
        else exp.true()
    )
    return totals.join(
        exp.Subquery(this=passing, alias=exp.TableAlias(this=exp.to_identifier(PASSING))),
        on=on,
        join_type="INNER",
        copy=False,
    )
