"""Compile a metric query against an explore into SQL for one dialect (pure: no I/O).

    query ──▶ plan_query (once) ──▶ access check ──▶ render ──▶ dialect rules ──▶ SQL

`compilation` keeps what each step made (plan, finalizer, tree, stitching) as a `Compilation`,
so totals and explain build on it instead of compiling or planning again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import partial
from types import MappingProxyType

import sqlglot
from sqlglot import exp

from metricql.compiler.compiled import BuiltOnRead, CompiledField, CompiledQuery
from metricql.compiler.features.period_over_period import (
    compile_period_over_period,
    has_period_over_period,
)
from metricql.compiler.features.pivots import pivot_fields
from metricql.compiler.options import CompileOptions
from metricql.compiler.plan.access import (
    check_custom_sql,
    check_explore,
    check_plan,
    visible_hint,
    with_user_values,
)
from metricql.compiler.plan.parameters import with_parameter_values
from metricql.compiler.plan.plan import Plan, plan_query
from metricql.compiler.plan.targets import metric_value_type
from metricql.compiler.sql.dialect_rules import adapt
from metricql.compiler.sql.field_sql import Finalizer
from metricql.compiler.sql.filters import FilterContext
from metricql.compiler.sql.pivot import pivot_select
from metricql.compiler.sql.render import Restrict, render_query
from metricql.compiler.sql.slots import recording_slots
from metricql.compiler.sql.stitch import Stitching
from metricql.compiler.sql.trees import copy_tree
from metricql.dialects import SUPPORTED
from metricql.errors import CompileError, QueryError, UnknownFieldError
from metricql.limits import check_query
from metricql.query.model import MetricQuery
from metricql.semantic.explore import Explore
from metricql.semantic.fields import FieldKind
from metricql.semantic.refs import MARK

DEFAULT_OPTIONS = CompileOptions()


@dataclass(frozen=True, slots=True)
class Compilation:
    """One query compiled: its plan, the finalizer of its trees, the pieces of a split
    aggregation, and the result."""

    plan: Plan
    finalizer: Finalizer
    stitching: Stitching
    result: CompiledQuery


def compile_query(
    explore: Explore, query: MetricQuery, options: CompileOptions = DEFAULT_OPTIONS
) -> CompiledQuery:
    """SQL and output fields for `query` on `explore`, rendered for `options.dialect`."""
    if has_period_over_period(query):  # two compilations joined on the shifted period
        return compile_period_over_period(
            explore, query, lambda q: compilation(explore, q, options, keep_tree=True).result
        )
    return compilation(explore, query, options).result


def compilation(
    explore: Explore, query: MetricQuery, options: CompileOptions, *, keep_tree: bool = False
) -> Compilation:
    """`query` planned once and compiled, with everything made on the way (`keep_tree`: for
    callers that read the result's tree, see `compile_plan`)."""
    if options.dialect not in SUPPORTED:
        raise QueryError(
            f"unsupported dialect {options.dialect!r}",
            hint=f"choose one of: {', '.join(SUPPORTED)}",
        )
    options = options.with_query_parameters(query.parameters)
    try:
        return compile_plan(checked_plan(explore, query, options), options, keep_tree=keep_tree)
    except RecursionError:  # a safety net behind the Limits: never a raw RecursionError
        raise QueryError(
            "the query nests too deeply to compile",
            hint="simplify nested SQL, filters or references (see metricql.Limits)",
            explore=explore.name,
        ) from None


def checked_plan(explore: Explore, query: MetricQuery, options: CompileOptions) -> Plan:
    """`query` planned once, after the explore and custom-SQL checks; its reads checked.
    Parameter tokens in filter values take their values (see `with_query_parameters`)."""
    check_query(query, options.limits)  # sizes first: before any work grows with them
    options = options.with_query_parameters(query.parameters)
    query, in_filters = with_parameter_values(query, explore, options.parameters)
    check_explore(explore, options.user)
    check_custom_sql(explore, query, options)
    query = with_user_values(query, options.user)
    try:
        plan = plan_query(explore, query, max_limit=options.max_limit)
    except UnknownFieldError as err:  # a user's hint names only fields the user may see
        raise err if options.user is None else visible_hint(err, explore, options.user) from None
    check_plan(plan, options.user)
    return replace(plan, parameters=MappingProxyType(in_filters)) if in_filters else plan


def compile_plan(
    plan: Plan,
    options: CompileOptions,
    restrict: Restrict | None = None,
    *,
    keep_tree: bool = False,
) -> Compilation:
    """SQL for a plan: access check, fan-out check, render, dialect rules.

    `restrict` may add joins to the aggregation (totals join the groups that pass). The tree
    is rendered in place and built again if the result's `tree` is read, unless `keep_tree`
    (for callers that read it: it is kept, a copy rendered).
    """
    explore = plan.explore
    check_plan(plan, options.user)
    filters = FilterContext(
        dialect=options.dialect,
        now=options.now or datetime.now(timezone.utc),
        timezone=plan.timezone,
        week_start=options.week_start if options.week_start is not None else 0,
    )
    fanout = plan.fanout.check(strict=options.strict)  # strict: inflated metrics raise
    finalizer = _finalizer(plan, options, filters)
    tree, stitching = _tree(plan, finalizer, filters, restrict)
    fields = _fields(plan)
    if plan.pivot is not None:
        fields = pivot_fields(fields, plan.pivot)
    issues = (*explore.issues, *fanout)
    keep = keep_tree or recording_slots()  # a shape template reads its tree's markers
    # Else rendered in place (the tree is ours alone) and built again only if read.
    result = BuiltOnRead(
        sql=_sql(copy_tree(tree) if keep else tree, explore, options.dialect),
        dialect=options.dialect,
        fields=fields,
        explore=explore.name,
        tree=tree if keep else None,
        build=None if keep else partial(_rebuilt, plan, options, filters, restrict),
        warnings=tuple(str(i) for i in issues),
        issues=issues,
        pivot=plan.pivot,
        parameters=MappingProxyType({**plan.parameters, **finalizer.used}),
    )
    return Compilation(plan, finalizer, stitching, result)


def _finalizer(plan: Plan, options: CompileOptions, filters: FilterContext) -> Finalizer:
    return Finalizer(
        plan.explore,
        options.dialect,
        user=options.user,
        week_start=options.week_start,
        filters=filters,
        targets=plan.filters.on_dimensions,
        timezone=plan.timezone if options.timezone_buckets and plan.timezone != "UTC" else None,
        parameters=options.parameters,
    )


def _tree(
    plan: Plan, finalizer: Finalizer, filters: FilterContext, restrict: Restrict | None
) -> tuple[exp.Expr, Stitching]:
    """The query's tree, dialect rules applied, and the pieces of a split aggregation."""
    select, stitching = render_query(plan, finalizer, filters, restrict)
    if plan.pivot is not None:
        select = pivot_select(select, plan.pivot)
    return adapt(select, filters.dialect), stitching


def _rebuilt(
    plan: Plan, options: CompileOptions, filters: FilterContext, restrict: Restrict | None
) -> exp.Expr:
    """The tree of a compile again (its first was rendered in place): same plan, clock,
    options, so the same tree."""
    return _tree(plan, _finalizer(plan, options, filters), filters, restrict)[0]


def _sql(tree: exp.Expr, explore: Explore, dialect: str) -> str:
    """SQL of a tree that is ours alone: rendered in place (sqlglot's transforms may rewrite
    it), without the generator's defensive copy of the whole tree."""
    try:
        sql = tree.sql(dialect=dialect, copy=False)
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
    return sql


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
            type=metric_value_type(plan.explore, m).value,
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
