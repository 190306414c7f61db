"""Fan-out: which tables a query's joins repeat, and where each metric must be computed.

A join repeats rows on one side of it: one-to-many repeats every table on the base side (each
order once per payment), many-to-one repeats the joined side (each customer once per order),
many-to-many both. In a join tree the sides of a join are the joined table's subtree and
everything else, so chains and chasm traps (two one-to-many branches, each repeating the
other) follow without special cases. A sum, count, average, median or percentile of a
repeated table is then computed at its table's own grain (see `sql/stitch.py`) when the table has
a primary key; without one it stays as it is and the query gets a warning (strict: an error).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

from sqlglot import exp

from metricql.compiler.plan.closure import MetricClosure
from metricql.errors import CompileError, Issue, UnsupportedError, Where
from metricql.semantic.explore import Explore, Join, Relationship
from metricql.semantic.fields import INFLATION_PROOF_METRIC_TYPES, Metric, MetricType
from metricql.semantic.refs import marker_kind

_INFLATED_HINT = "add meta.primary_key to the models named, or drop the joined fields"
DISTINCT_TYPES = frozenset({MetricType.SUM_DISTINCT, MetricType.AVERAGE_DISTINCT})
# Aggregate functions that duplicated rows cannot change (inside non-aggregate metrics' SQL).
_PROOF_FUNCTIONS: tuple[type[exp.Expr], ...] = (exp.Min, exp.Max)

# relationship → (repeats the base side, repeats the joined side)
_REPEATS: Mapping[Relationship, tuple[bool, bool]] = {
    Relationship.ONE_TO_MANY: (True, False),
    Relationship.MANY_TO_ONE: (False, True),
    Relationship.MANY_TO_MANY: (True, True),
    Relationship.ONE_TO_ONE: (False, False),
}


@dataclass(frozen=True, slots=True)
class JoinFanOut:
    """One join of a query and the tables whose rows it repeats there."""

    table: str
    relationship: Relationship | None
    repeats: frozenset[str]


@dataclass(frozen=True, slots=True)
class Inflation:
    """Which tables of one query are repeated by its joins, and by which tables' rows."""

    joins: tuple[JoinFanOut, ...]
    multipliers: Mapping[str, frozenset[str]]  # repeated table → tables that vary per its row

    @property
    def inflated(self) -> frozenset[str]:
        """Tables some of whose rows appear more than once in the joined rows."""
        return frozenset(self.multipliers)

    @property
    def unrelated(self) -> tuple[str, ...]:
        """Joins without a relationship: their fan-out is unknown."""
        return tuple(j.table for j in self.joins if j.relationship is None)


def inflation(explore: Explore, joins: Sequence[Join]) -> Inflation:
    """Fan-out of the join tree formed by the base table and `joins`."""
    tables = {explore.base_table, *(j.table for j in joins)}
    children: dict[str, set[str]] = {}
    for join in joins:
        for parent in (join.tables_references & tables) - {join.table} or {explore.base_table}:
            children.setdefault(parent, set()).add(join.table)
    multipliers: dict[str, set[str]] = {}
    fanouts = []
    for join in joins:
        below = _subtree(join.table, children)
        above = tables - below
        rel = join.relationship
        base_side, joined_side = _REPEATS[rel] if rel is not None else (False, False)
        repeated: set[str] = set()
        for side, other, repeats in ((above, below, base_side), (below, above, joined_side)):
            if repeats:
                repeated |= side
                for table in side:
                    multipliers.setdefault(table, set()).update(other)
        fanouts.append(JoinFanOut(join.table, join.relationship, frozenset(repeated)))
    return Inflation(
        joins=tuple(fanouts),
        multipliers=MappingProxyType({t: frozenset(m) for t, m in multipliers.items()}),
    )


def _subtree(root: str, children: Mapping[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    stack = [root]
    while stack:
        table = stack.pop()
        if table not in seen:
            seen.add(table)
            stack.extend(children.get(table, ()))
    return seen


class Route(str, Enum):
    """Where a metric of a query is computed."""

    PLAIN = "plain"  # the ordinary GROUP BY over the joined rows
    OWN_GRAIN = "own_grain"  # fan-out: aggregated over the distinct rows of its own table
    DISTINCT = "distinct"  # sum/average_distinct: rows deduplicated on its distinct_keys
    COMBINED = "combined"  # non-aggregate: computed from the other metrics' columns
    INFLATED = "inflated"  # repeated by a join and cannot be protected: plain, with a warning


@dataclass(frozen=True, slots=True)
class MetricRoute:
    """How one metric is computed, and why."""

    metric: str
    table: str
    route: Route
    reason: str


@dataclass(frozen=True, slots=True)
class FanOutPlan:
    """Fan-out analysis of one planned query: inflation, metric routes, warnings."""

    explore: str
    inflation: Inflation
    routes: Mapping[str, MetricRoute]  # computed metrics and the metrics they reference
    inflated: tuple[MetricRoute, ...]  # routes strict mode refuses, in the order found

    @property
    def problems(self) -> tuple[str, ...]:
        """The warnings strict mode turns into an error."""
        return tuple(r.reason for r in self.inflated)

    @property
    def issues(self) -> tuple[Issue, ...]:
        """Warnings: joins of unknown fan-out, then the metrics that may be inflated."""
        if not self.routes:
            return ()
        unrelated = tuple(
            Issue(
                "join_without_relationship",
                f'join "{t}" has no relationship, so metricql cannot tell whether it repeats '
                "rows; metrics of this query may be inflated (set relationship: on the join)",
                hint="set relationship: on the join",
                where=Where(explore=self.explore),
            )
            for t in self.inflation.unrelated
        )
        inflated = tuple(
            Issue(
                "inflated_metric",
                r.reason,
                hint=_INFLATED_HINT,
                where=Where(explore=self.explore, field=r.metric),
            )
            for r in self.inflated
        )
        return (*unrelated, *inflated)

    @property
    def rewrites(self) -> bool:
        """True when the aggregation must be split into separately aggregated pieces."""
        return any(r.route in (Route.OWN_GRAIN, Route.DISTINCT) for r in self.routes.values())

    def restricted(self, closure: MetricClosure) -> FanOutPlan:
        """The analysis of the same joins for a sub-closure (a derived query computing fewer
        metrics): a metric's route depends only on the metric and the joins."""
        routes = {m.id: self.routes[m.id] for m in closure.metrics}
        return FanOutPlan(
            explore=self.explore,
            inflation=self.inflation,
            routes=MappingProxyType(routes),
            inflated=tuple(r for r in self.inflated if r.metric in routes),
        )

    def check(self, *, strict: bool) -> tuple[Issue, ...]:
        """The warnings; in strict mode a CompileError when some metric may be inflated."""
        if strict and self.problems:
            raise CompileError(
                "metrics of this query may be inflated by its joins: " + "; ".join(self.problems),
                hint=_INFLATED_HINT,
                metrics=[r.metric for r in self.routes.values() if r.route is Route.INFLATED],
            )
        return self.issues


def fanout_plan(explore: Explore, joins: Sequence[Join], closure: MetricClosure) -> FanOutPlan:
    """Inflation of the query's joins and the route of every metric of its closure."""
    infl = inflation(explore, joins)
    routes: dict[str, MetricRoute] = {}
    inflated: list[MetricRoute] = []
    for metric in closure.metrics:
        route, reason = _route(explore, metric, infl)
        routes[metric.id] = MetricRoute(metric.id, metric.table, route, reason)
        if route is Route.INFLATED:
            inflated.append(routes[metric.id])
    if any(r.route in (Route.OWN_GRAIN, Route.DISTINCT) for r in routes.values()):
        for metric in closure.metrics:
            if not metric.is_aggregate and not _own_aggregates(metric):
                routes[metric.id] = MetricRoute(
                    metric.id,
                    metric.table,
                    Route.COMBINED,
                    "computed from the separately aggregated metrics it references",
                )
        _reject_inlined_distinct(closure, routes)
        inflated += _inlined_own_grain(closure, routes)
    return FanOutPlan(
        explore=explore.name,
        inflation=infl,
        routes=MappingProxyType(routes),
        inflated=tuple(inflated),
    )


def _route(explore: Explore, metric: Metric, infl: Inflation) -> tuple[Route, str]:
    if metric.type in DISTINCT_TYPES:
        return Route.DISTINCT, "deduplicated on its distinct_keys, then aggregated"
    repeated_by = infl.multipliers.get(metric.table, frozenset())
    if not metric.is_aggregate:
        if _unsafe_aggregates(metric) and _own_tables(metric) & infl.inflated:
            return Route.INFLATED, (
                f'metric "{metric.id}" aggregates in its own SQL over tables this query\'s '
                "joins repeat, so it may be inflated (use aggregate metric types instead)"
            )
        return Route.PLAIN, "computed in the GROUP BY over the joined rows"
    if not repeated_by or metric.type in INFLATION_PROOF_METRIC_TYPES:
        why = "not repeated by any join" if not repeated_by else "repeated rows cannot change it"
        return Route.PLAIN, f"computed in the GROUP BY over the joined rows ({why})"
    by = _join_names(infl, metric.table)
    table = explore.tables[metric.table]
    if not table.primary_key:
        return Route.INFLATED, (
            f'metric "{metric.id}" may be inflated: {by} rows of table '
            f'"{metric.table}", which has no primary_key (set meta.primary_key on model '
            f'"{table.original_name}")'
        )
    varying = sorted((metric.tables_references - {metric.table}) & repeated_by)
    if varying:
        return Route.INFLATED, (
            f'metric "{metric.id}" may be inflated: {by} rows of table "{metric.table}", and '
            f"its SQL reads {', '.join(repr(t) for t in varying)}, which vary within one of "
            "them (move the metric to the table it aggregates)"
        )
    return Route.OWN_GRAIN, (
        f'{by} rows of "{metric.table}": each of its rows counted once per group '
        f"(primary key {', '.join(table.primary_key)})"
    )


def _join_names(infl: Inflation, table: str) -> str:
    """`join "p" (one-to-many) repeats` / `joins "p" (…) and "i" (…) repeat`."""
    joins = [
        f'"{j.table}" ({j.relationship.value if j.relationship else "?"})'
        for j in infl.joins
        if table in j.repeats
    ]
    if len(joins) == 1:
        return f"join {joins[0]} repeats"
    return f"joins {', '.join(joins[:-1])} and {joins[-1]} repeat"


def _own_aggregates(metric: Metric) -> list[exp.AggFunc]:
    """Aggregate calls written in a non-aggregate metric's own SQL (not inside references)."""
    return [
        node
        for node in metric.sql.find_all(exp.AggFunc)
        if not any(marker_kind(a) == "metric" for a in _ancestors(node))
    ]


def _own_tables(metric: Metric) -> frozenset[str]:
    """Tables whose columns a metric's own SQL reads (references to metrics excluded)."""
    return frozenset(c.table for c in metric.sql.find_all(exp.Column) if c.table)


def _unsafe_aggregates(metric: Metric) -> bool:
    for node in _own_aggregates(metric):
        distinct_count = isinstance(node, exp.Count) and isinstance(node.this, exp.Distinct)
        if not (distinct_count or isinstance(node, _PROOF_FUNCTIONS)):
            return True
    return False


def _ancestors(node: exp.Expr) -> Iterator[exp.Expr]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def _inlined_own_grain(closure: MetricClosure, routes: dict[str, MetricRoute]) -> list[MetricRoute]:
    """Metrics with their own aggregate calls inline their references into the joined rows."""
    inflated = []
    for metric in closure.metrics:
        if metric.is_aggregate or routes[metric.id].route is not Route.PLAIN:
            continue
        fixed = [m.id for m in closure.below([metric]) if routes[m.id].route is Route.OWN_GRAIN]
        if fixed:
            reason = (
                f'metric "{metric.id}" aggregates in its own SQL, so the metrics it references '
                f"({', '.join(fixed)}) are computed inline over the repeated rows and may be "
                "inflated"
            )
            routes[metric.id] = MetricRoute(metric.id, metric.table, Route.INFLATED, reason)
            inflated.append(routes[metric.id])
    return inflated


def _reject_inlined_distinct(closure: MetricClosure, routes: Mapping[str, MetricRoute]) -> None:
    """Metrics still inlined into the GROUP BY cannot contain a sum/average_distinct."""
    for metric in closure.metrics:
        if routes[metric.id].route in (Route.PLAIN, Route.INFLATED) and not metric.is_aggregate:
            inner = [m for m in closure.below([metric]) if m.type in DISTINCT_TYPES]
            if inner:
                raise UnsupportedError(
                    f'metric "{metric.id}" aggregates in its own SQL and references '
                    f'{inner[0].type.value} metric "{inner[0].id}"; that combination is not '
                    "supported",
                    hint="reference the distinct metric from a metric without aggregate calls",
                    field=metric.id,
                )
