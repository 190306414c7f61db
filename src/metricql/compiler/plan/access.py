"""Access control: `required_attributes` and `any_attributes` on explores, tables and fields;
the custom-SQL permission and policy; user attributes in filter values.

A table or field with `required_attributes: {attr: value | [values]}` is visible only to users
who have every listed attribute with one of the listed values; with `any_attributes` (same
shape), to users who have at least one of them. A field reading protected fields carries their
protection too, so it needs all of it. Without a user context nothing protected is visible:
the safe default for a library that cannot know who is asking.

The check is one walk over the plan's access closure (`Plan.reads`: every explore field the
compiled SQL reads, through custom dimensions, bins, additional metrics and their filters,
metric references, calculations and totals) and the tables it joins. Messages and hints name
only what the user asked for or may see, never the attribute values that would open access.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from sqlglot import exp

from metricql.compiler.options import CompileOptions
from metricql.compiler.plan.plan import Plan
from metricql.compiler.plan.sql_policy import check_snippet
from metricql.context import UserContext
from metricql.errors import (
    CompileError,
    ForbiddenError,
    QueryError,
    UnknownFieldError,
    did_you_mean,
)
from metricql.query.model import (
    AdditionalMetric,
    CustomSqlDimension,
    FilterGroup,
    FilterRule,
    Filters,
    MetricQuery,
    rules,
)
from metricql.semantic.explore import Explore, Table
from metricql.semantic.fields import Dimension, Metric
from metricql.semantic.refs import parse_snippet

_TOKEN = re.compile(
    r"\$\{\s*(?:lightdash|ld)\.(attributes|attribute|attr|user)\.([A-Za-z0-9_]+)\s*\}"
)


_ASK = "ask an administrator for access"


Attributes = Mapping[str, tuple[str, ...]]


def allowed(
    required: Attributes, user: UserContext | None, any_of: tuple[Attributes, ...] = ()
) -> bool:
    """True when `user` has every required attribute with an allowed value, and for each
    `any_attributes` group at least one of its attributes with an allowed value."""
    if not required and not any_of:
        return True
    if user is None:
        return False
    has = _has_value(user)
    return all(has(name, values) for name, values in required.items()) and all(
        any(has(name, values) for name, values in group.items()) for group in any_of
    )


def permits(user: UserContext | None, item: Table | Dimension | Metric) -> bool:
    """True when `user` may see a table or field (its required and any attributes)."""
    return allowed(item.required_attributes, user, item.any_attributes)


def _has_value(user: UserContext) -> Callable[[str, tuple[str, ...]], bool]:
    def has(name: str, values: tuple[str, ...]) -> bool:
        have = user.attributes.get(name)
        have_values = (
            set(have) if isinstance(have, tuple) else {have} if have is not None else set()
        )
        return bool(have_values & set(values))

    return has


def may_see(explore: Explore, user: UserContext | None) -> bool:
    """True when `user` may see the explore: its own `required_attributes` (an additional
    explore under `meta.explores`) and its base table's."""
    base = explore.tables[explore.base_table]
    return allowed(explore.required_attributes, user) and permits(user, base)


def check_explore(explore: Explore, user: UserContext | None) -> None:
    """ForbiddenError when the explore (or its base table) is protected from `user`.

    Messages name what the user asked for, never the attribute values that would open it.
    """
    if not may_see(explore, user):
        raise ForbiddenError(
            f"You don't have authorization to access explore {explore.name!r}",
            hint=_ASK,
            explore=explore.name,
        )


def check_fields(
    explore: Explore, user: UserContext | None, field_ids: Iterable[str], tables: Iterable[str]
) -> None:
    """ForbiddenError for the first protected field or joined table the query touches."""
    for table_name in tables:
        if not permits(user, explore.tables[table_name]):
            raise ForbiddenError(
                f"the query needs table {table_name!r}, which this user may not access",
                hint=_ASK,
                explore=explore.name,
                table=table_name,
            )
    for fid in field_ids:
        field = explore.dimensions.get(fid) or explore.metrics.get(fid)
        if field is not None and not permits(user, field):
            raise ForbiddenError(
                f"field {fid!r} requires user attributes this user does not have",
                hint=_ASK,
                explore=explore.name,
                field=fid,
            )


def check_plan(plan: Plan, user: UserContext | None) -> None:
    """ForbiddenError unless `user` may read every table the plan joins and every field in
    its access closure (`plan.reads`)."""
    explore = plan.explore
    tables = [explore.base_table, *(j.table for j in plan.joins)]
    check_fields(explore, user, plan.reads, tables)


def visible_explore(explore: Explore, user: UserContext | None) -> Explore | None:
    """The explore as `user` may see it (protected tables and fields removed), or None."""
    if not may_see(explore, user):
        return None
    tables = {k: t for k, t in explore.tables.items() if permits(user, t)}

    def keep(field: Dimension | Metric) -> bool:
        return field.table in tables and permits(user, field)

    return replace(
        explore,
        tables=MappingProxyType(tables),
        joins=tuple(j for j in explore.joins if j.table in tables),
        dimensions={k: d for k, d in explore.dimensions.items() if keep(d)},
        metrics={k: m for k, m in explore.metrics.items() if keep(m)},
    )


def visible_hint(err: UnknownFieldError, explore: Explore, user: UserContext) -> UnknownFieldError:
    """`err` with its "did you mean" drawn only from the fields `user` may see."""
    visible = visible_explore(explore, user)
    fields = [*visible.dimensions, *visible.metrics] if visible is not None else []
    name = str(err.context.get("field", ""))
    hint = did_you_mean(name, fields, otherwise="list the fields with explores_for(user)")
    message = err.message if name in fields else err.message.split(" (it is a")[0]
    return UnknownFieldError(message, hint=hint, **err.context)


def substitute_attributes(rule: FilterRule, user: UserContext | None) -> FilterRule:
    """Replace `${lightdash.attributes.x}` / `${lightdash.user.email}` tokens in string values.

    A value that is exactly one token of a multi-valued attribute expands into all its values.
    The result is still a plain value: the filter renderer makes it a literal.
    """
    if not any(isinstance(v, str) and "${" in v for v in rule.values):
        return rule
    values: list[Any] = []
    for value in rule.values:
        if not isinstance(value, str) or "${" not in value:
            values.append(value)
            continue
        whole = _TOKEN.fullmatch(value.strip())
        if whole:
            resolved = _attribute(whole.group(1), whole.group(2), user, rule)
            values.extend(resolved if isinstance(resolved, tuple) else (resolved,))
            continue
        values.append(_TOKEN.sub(lambda m: _joined(m, user, rule), value))
    return rule.model_copy(update={"values": tuple(values)})


def _joined(match: re.Match[str], user: UserContext | None, rule: FilterRule) -> str:
    value = _attribute(match.group(1), match.group(2), user, rule)
    return ", ".join(value) if isinstance(value, tuple) else value


def _attribute(
    kind: str, name: str, user: UserContext | None, rule: FilterRule
) -> str | tuple[str, ...]:
    value: Any = None
    if user is not None:
        value = user.intrinsic(name) if kind == "user" else user.attributes.get(name)
    if value is None or value == ():
        raise ForbiddenError(
            f"filter on {rule.target.field_id!r} uses user attribute {name!r}, "
            "which this user does not have",
            hint="give the user the attribute or remove it from the filter value",
            field=rule.target.field_id,
            attribute=name,
        )
    return value if isinstance(value, tuple) else str(value)


def with_user_values(query: MetricQuery, user: UserContext | None) -> MetricQuery:
    """The query with user-attribute tokens in every filter value substituted."""
    f = query.filters
    if not any(
        _has_token(r) for g in (f.dimensions, f.metrics, f.table_calculations) for r in rules(g)
    ):
        return query

    def substituted(group: FilterGroup | None) -> FilterGroup | None:
        return group.map_rules(lambda r: substitute_attributes(r, user)) if group else None

    filters = Filters(
        dimensions=substituted(f.dimensions),
        metrics=substituted(f.metrics),
        table_calculations=substituted(f.table_calculations),
    )
    return query.model_copy(update={"filters": filters})


def _has_token(rule: FilterRule) -> bool:
    return any(isinstance(v, str) and "${" in v for v in rule.values)


_COLUMN_OF_TABLE = re.compile(r"^\$\{TABLE\}\.([A-Za-z_][A-Za-z0-9_]*)$")


def over_dimension(explore: Explore, metric: AdditionalMetric) -> str | None:
    """The dimension id a UI-made additional metric aggregates (`baseDimensionName` set and
    `sql` exactly that dimension's `${TABLE}.column`), else None. Such a metric is no custom
    SQL: it needs no permission, and the access closure reads that dimension."""
    if not metric.base_dimension_name:
        return None
    plain = _COLUMN_OF_TABLE.match(metric.sql.strip())
    dim = explore.dimensions.get(f"{metric.table}_{metric.base_dimension_name}")
    if plain is None or dim is None or dim.table != metric.table:
        return None
    tree = dim.sql
    same = isinstance(tree, exp.Column) and tree.name == plain.group(1) and tree.table == dim.table
    return dim.id if same else None


def query_snippets(explore: Explore, query: MetricQuery) -> list[tuple[str, str, str]]:
    """(context, owner, sql) of every SQL snippet the query author wrote."""
    return [
        *(
            ("custom dimension", d.id, d.sql)
            for d in query.custom_dimensions
            if isinstance(d, CustomSqlDimension)
        ),
        *(
            ("additional metric", f"{m.table}_{m.name}", m.sql)
            for m in query.additional_metrics
            if over_dimension(explore, m) is None
        ),
        *(("table calculation", c.name, c.sql) for c in query.table_calculations if c.sql),
    ]


def check_custom_sql(explore: Explore, query: MetricQuery, options: CompileOptions) -> None:
    """The custom-SQL permission, then the policy on every snippet the query author wrote.

    A user without `custom_sql` may send table calculations (over the query's own columns)
    but no custom SQL dimension and no additional metric with SQL. The policy runs whenever a
    user is given, or when a trusted caller asks for it (`CompileOptions.sql_policy`).
    """
    snippets = query_snippets(explore, query)
    user = options.user
    if user is not None and not user.custom_sql:
        for context, owner, _ in snippets:
            if context != "table calculation":
                raise ForbiddenError(
                    f"{context} {owner!r} is custom SQL, which this user may not write",
                    hint="give the user the custom SQL permission (UserContext(custom_sql=True))",
                    field=owner,
                )
    if not options.enforces_policy:
        return
    for context, owner, sql in snippets:
        try:
            snippet = parse_snippet(sql, explore.source_dialect, field=owner)
        except CompileError as err:
            raise QueryError(err.message, hint=err.hint, field=owner) from None
        check_snippet(
            snippet,
            context,
            owner=owner,
            dialect=explore.source_dialect,
            extra_functions=options.allow_functions,
        )
