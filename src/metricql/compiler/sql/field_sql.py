"""Field trees → final SQL trees for one query: markers resolved, metrics aggregated.

Explore trees are shared and frozen: everything here works on copies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from metricql.compiler.plan.targets import FilteredField
from metricql.compiler.sql.distinct import distinct_aggregate
from metricql.compiler.sql.filters import FilterContext, filter_condition
from metricql.compiler.sql.timeframes import IN_TIMEZONE, interval_expression, local_time
from metricql.compiler.sql.trees import copy_tree
from metricql.context import UserContext
from metricql.errors import ForbiddenError, QueryError, UnsupportedError
from metricql.query.model import FilterRule
from metricql.semantic.explore import Explore
from metricql.semantic.fields import DimensionType, Metric, MetricType
from metricql.semantic.parameters import parameter_literal, parameter_value
from metricql.semantic.refs import (
    attribute_parts,
    interval_parts,
    interval_zoned,
    marker_kind,
    metric_ref_id,
    parameter_ref_name,
)

Aggregate = Callable[[exp.Expr, Metric], exp.Expr]

# Final trees of explore fields per (tree id, dialect, week start, bucket timezone). Each entry
# holds the source tree itself, so its id cannot be reused while the entry lives; identity is
# checked on lookup.
_FINAL_TREES: dict[tuple[int, str, int | None, str | None], tuple[exp.Expr, exp.Expr | None]] = {}
_FINAL_TREES_MAX = 50_000


def _percentile(x: exp.Expr, metric: Metric) -> exp.Expr:
    fraction = (metric.percentile if metric.percentile is not None else 50) / 100
    return exp.PercentileCont(this=x, expression=exp.Literal.number(fraction))


AGGREGATES: Mapping[MetricType, Aggregate] = {
    MetricType.COUNT: lambda x, _: exp.Count(this=x),
    MetricType.COUNT_DISTINCT: lambda x, _: exp.Count(this=exp.Distinct(expressions=[x])),
    MetricType.SUM: lambda x, _: exp.Sum(this=x),
    MetricType.AVERAGE: lambda x, _: exp.Avg(this=x),
    MetricType.MIN: lambda x, _: exp.Min(this=x),
    MetricType.MAX: lambda x, _: exp.Max(this=x),
    MetricType.PERCENTILE: _percentile,
    MetricType.MEDIAN: lambda x, _: exp.Median(this=x),
}


@dataclass(slots=True)
class Finalizer:
    """Turns explore trees into dialect SQL trees for one query; memoises metric trees.

    With `filters`, a metric's YAML filters become a CASE WHEN inside its aggregate, each
    comparing the field `targets` binds it to (see `targets.PlanFilters.on_dimensions`).
    """

    explore: Explore
    dialect: str
    user: UserContext | None = None
    week_start: int | None = None
    filters: FilterContext | None = None
    targets: Mapping[str, FilteredField] = field(default_factory=dict)
    templates: bool = False  # catalog display: user references stay `${lightdash.…}` text
    timezone: str | None = None  # truncate timestamps in this zone (timezone buckets)
    parameters: Mapping[str, Any] = field(default_factory=dict)  # supplied values by name
    used: dict[str, Any] = field(default_factory=dict)  # parameter values the SQL took
    _metrics: dict[str, exp.Expr] = field(default_factory=dict)

    def tree(self, tree: exp.Expr) -> exp.Expr:
        """A copy of `tree` with every marker replaced."""
        key = (id(tree), self.dialect, self.week_start, self.timezone)
        entry = _FINAL_TREES.get(key)
        if entry is None or entry[0] is not tree:
            entry = (tree, self._final(tree))
            if len(_FINAL_TREES) >= _FINAL_TREES_MAX:
                _FINAL_TREES.clear()  # bounded; refilled by the next compiles
            _FINAL_TREES[key] = entry
        final = entry[1]
        return copy_tree(final) if final is not None else self.fresh(tree)

    def own(self, tree: exp.Expr) -> exp.Expr:
        """`tree(tree)` for a tree built for this query alone: used in place when nothing
        is replaced, and not cached (its id would only crowd the explore's trees out)."""
        final = self._final(tree)
        return final if final is not None else self.fresh(tree)

    def fresh(self, tree: exp.Expr) -> exp.Expr:
        """A copy of a query's own tree (a table calculation) with every marker replaced,
        uncached: such trees live for one query and would only crowd the explore's out."""
        out = copy_tree(tree).transform(self._replace, copy=False)
        return _multi_valued(out) if any(True for _ in out.find_all(exp.Tuple)) else out

    def _final(self, tree: exp.Expr) -> exp.Expr | None:
        """The user-independent final tree, or None when it depends on the query (metrics,
        user attributes), in which case it is rebuilt on each use."""
        kinds = {marker_kind(n) for n in tree.find_all(exp.Anonymous)}
        if "attribute" in kinds or "metric" in kinds or "parameter" in kinds:
            return None
        return copy_tree(tree).transform(self._replace, copy=False) if "interval" in kinds else tree

    def metric(self, metric: Metric) -> exp.Expr:
        """The full SQL of a metric: filters inside, aggregate outside, references inlined."""
        cached = self._metrics.get(metric.id)
        if cached is None:
            cached = self._metric(metric)
            self._metrics[metric.id] = cached
        return copy_tree(cached)

    def _metric(self, metric: Metric) -> exp.Expr:
        inner = self.tree(metric.sql)
        if metric.is_post_calculation:
            raise UnsupportedError(
                f"metric {metric.id!r} of type {metric.type.value!r} is not supported yet",
                hint="post-calculation metrics arrive with table calculations",
                field=metric.id,
            )
        if not metric.is_aggregate:
            return inner
        # sum/average_distinct: a marker, computed apart by stitch.py (SPEC §6.8).
        build = AGGREGATES.get(metric.type, distinct_aggregate)
        if metric.filters and self.filters is not None:
            condition = exp.and_(*(self._condition(rule) for rule in metric.filters), copy=False)
            inner = exp.Case(ifs=[exp.If(this=condition, true=inner)])
        return build(inner, metric)

    def _condition(self, rule: FilterRule) -> exp.Expr:
        assert self.filters is not None
        target = self.targets[rule.target.field_id]
        assert target.sql is not None  # metric filters compare dimensions
        column = self.tree(target.sql)
        return filter_condition(
            rule, column, target.type, target.id, self.filters, case_sensitive=target.case_sensitive
        )

    def _replace(self, node: exp.Expr) -> exp.Expr:
        kind = marker_kind(node)
        if kind == "interval":
            base, unit, base_type = interval_parts(node)
            column = self.tree(base)
            if self._in_zone(node, base_type, unit):
                column = local_time(column, self.timezone or "UTC", self.dialect)
            return interval_expression(column, unit, base_type, self.dialect, self.week_start)
        if kind == "metric":
            return exp.Paren(this=self.metric(self.explore.metrics[metric_ref_id(node)]))
        if kind == "attribute":
            return self._attribute(node)
        if kind == "parameter":
            return self._parameter(parameter_ref_name(node))
        return node

    def _in_zone(self, node: exp.Expr, base_type: DimensionType, unit: object) -> bool:
        """Whether an interval is truncated in the query's timezone (timestamps only)."""
        timestamp = base_type is DimensionType.TIMESTAMP and unit in IN_TIMEZONE
        return bool(self.timezone) and timestamp and interval_zoned(node)

    def _parameter(self, name: str) -> exp.Expr:
        if self.templates:
            return exp.Var(this=f"${{lightdash.parameters.{name}}}")
        definition = self.explore.parameters.get(name)
        if definition is None:
            raise QueryError(
                f"parameter {name!r} is not defined for explore {self.explore.name!r}",
                hint="define it in lightdash.config.yml or the model's meta.parameters",
                parameter=name,
            )
        value = parameter_value(definition, self.parameters)
        self.used[name] = value
        return parameter_literal(definition, value)

    def _attribute(self, node: exp.Expr) -> exp.Expr:
        name, kind = attribute_parts(node)
        if self.templates:
            group = "attributes" if kind == "attribute" else "user"
            return exp.Var(this=f"${{lightdash.{group}.{name}}}")
        if self.user is None:
            raise ForbiddenError(
                f"SQL uses the user {kind} {name!r}, but no user context was given",
                hint="pass user=UserContext(attributes={...}) to compile/run",
                attribute=name,
            )
        value: Any = self.user.intrinsic(name) if kind == "user" else self.user.attributes.get(name)
        if value is None or value == ():
            raise ForbiddenError(
                f"missing user {kind} {name!r}",
                hint=f"give the user a value for {name!r}",
                attribute=name,
            )
        if isinstance(value, tuple):
            return exp.Tuple(expressions=[exp.Literal.string(str(v)) for v in value])
        return exp.Literal.string(str(value))


def _multi_valued(tree: exp.Expr) -> exp.Expr:
    """A multi-valued user attribute (a tuple of literals) compared with `=` / `<>` becomes
    `IN` / `NOT IN`, and `IN (${attr})` is flattened, as Lightdash documents both forms."""

    def fix(node: exp.Expr) -> exp.Expr:
        if isinstance(node, (exp.EQ, exp.NEQ)) and isinstance(node.expression, exp.Tuple):
            listed = exp.In(this=node.this, expressions=node.expression.expressions)
            return listed if isinstance(node, exp.EQ) else exp.Not(this=listed)
        if isinstance(node, exp.In) and any(isinstance(e, exp.Tuple) for e in node.expressions):
            flat = [
                v
                for e in node.expressions
                for v in (e.expressions if isinstance(e, exp.Tuple) else [e])
            ]
            return exp.In(this=node.this, expressions=flat)
        return node

    return tree.transform(fix)
