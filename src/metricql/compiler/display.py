"""SQL text of an explore's fields, joins and table filters as a catalog shows it.

Two forms per field, as in Lightdash's compiled Explore JSON:
- `template`: the field's own expression with references shown as Lightdash writes them
  (`${orders.order_count}` for a metric a number metric uses, `${lightdash.attributes.region}`
  for a user attribute); a time-interval child shows its base dimension's expression;
- `compiled`: the SQL a query would use in the explore's source dialect: intervals truncated,
  metrics aggregated with their filters inside, referenced metrics inlined; user attributes
  still as `${lightdash.…}` text (they become literals only per user, at query time).
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlglot import exp

from metricql.compiler.plan.targets import metric_filter_targets
from metricql.compiler.sql.field_sql import Finalizer
from metricql.compiler.sql.filters import FilterContext
from metricql.errors import UnsupportedError
from metricql.semantic.explore import Explore
from metricql.semantic.fields import Dimension, Metric
from metricql.semantic.refs import (
    MARK,
    attribute_parts,
    interval_parts,
    marker_kind,
    metric_ref_id,
    parameter_ref_name,
)

__all__ = ["ExploreSql"]


class ExploreSql:
    """Renders the trees of one explore in its source dialect (see the module docstring)."""

    def __init__(self, explore: Explore, *, week_start: int | None = None) -> None:
        self.explore = explore
        self.dialect = explore.source_dialect
        filters = FilterContext(
            dialect=self.dialect,
            now=datetime.now(timezone.utc),
            week_start=week_start if week_start is not None else 0,
        )
        self._finalizer = Finalizer(
            explore,
            self.dialect,
            week_start=week_start,
            filters=filters,
            targets=metric_filter_targets(explore),
            templates=True,
        )

    def template(self, tree: exp.Expr) -> str:
        """The expression with markers shown as Lightdash references."""
        return tree.transform(self._as_template).sql(self.dialect)

    def dimension(self, dim: Dimension) -> str:
        """Compiled SQL of a dimension (intervals truncated for the dialect)."""
        return self.compiled(dim.sql)

    def compiled(self, tree: exp.Expr) -> str:
        """Compiled SQL of a dimension-level expression: a join condition, a table filter."""
        return self._finalizer.tree(tree).sql(self.dialect)

    def metric(self, metric: Metric) -> str:
        """Compiled SQL of a metric: aggregate, filters and referenced metrics inlined."""
        try:
            text = self._finalizer.metric(metric).sql(self.dialect)
        except UnsupportedError:  # post-calculation metrics exist only inside a query
            return self.template(metric.sql)
        if MARK in text:  # sum/average_distinct: computed apart in a query; show the intent
            inner = self._finalizer.tree(metric.sql)
            return exp.Anonymous(this=metric.type.value.upper(), expressions=[inner]).sql(
                self.dialect
            )
        return text

    def _as_template(self, node: exp.Expr) -> exp.Expr:
        kind = marker_kind(node)
        if kind == "metric":
            target = self.explore.metrics.get(metric_ref_id(node))
            ref = f"{target.table}.{target.name}" if target else metric_ref_id(node)
            return exp.Var(this=f"${{{ref}}}")
        if kind == "attribute":
            name, which = attribute_parts(node)
            group = "attributes" if which == "attribute" else "user"
            return exp.Var(this=f"${{lightdash.{group}.{name}}}")
        if kind == "interval":
            return interval_parts(node)[0].transform(self._as_template)
        if kind == "parameter":
            return exp.Var(this=f"${{lightdash.parameters.{parameter_ref_name(node)}}}")
        return node
