"""sum_distinct / average_distinct: values deduplicated on `distinct_keys`, then aggregated.

Per metric (SPEC §6.8), over the query's joined and filtered rows:

    SELECT <dimensions>, v AS "__value",
           ROW_NUMBER() OVER (PARTITION BY <distinct keys ∪ dimensions> ORDER BY v) AS "__row"
    FROM … WHERE …

then `SUM(CASE WHEN "__row" = 1 THEN "__value" END)` (AVG for average_distinct) per group.
The metric's YAML filters are already inside `v` (CASE WHEN … THEN value END); ordering NULLs
last keeps a key's passing value when some of its rows pass and some do not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from sqlglot import exp

from metricql.compiler.sql.names import column, quoted
from metricql.semantic.fields import Metric, MetricType
from metricql.semantic.refs import MARK

if TYPE_CHECKING:
    from metricql.compiler.sql.field_sql import Finalizer

VALUE = "__value"
ROW = "__row"


def distinct_aggregate(value: exp.Expr, metric: Metric) -> exp.Expr:
    """Marker standing for a sum/average_distinct of `value` until the stitched aggregation
    computes it apart (it has no SQL of its own)."""
    return exp.Anonymous(
        this=f"{MARK}distinct", expressions=[value, exp.Literal.string(metric.type.value)]
    )


_TOTALS: Mapping[MetricType, Callable[[exp.Expr], exp.Expr]] = {
    MetricType.SUM_DISTINCT: lambda x: exp.Sum(this=x),
    MetricType.AVERAGE_DISTINCT: lambda x: exp.Avg(this=x),  # AVG skips the NULLed duplicates
}


def distinct_rows(
    scan: exp.Select,
    dimensions: Sequence[exp.Expr],
    metric: Metric,
    value: exp.Expr,
    finalizer: Finalizer,
) -> exp.Select:
    """The joined rows with the metric's value and its rank among rows of the same keys."""
    partition: list[exp.Expr] = []
    for key in (
        *(finalizer.tree(k) for k in metric.distinct_keys),
        *(d.unalias().copy() for d in dimensions),
    ):
        if key not in partition:  # a dimension that is also a key is not repeated
            partition.append(key)
    order = exp.Order(expressions=[exp.Ordered(this=value.copy(), nulls_first=False)])
    rank = exp.Window(this=exp.RowNumber(), partition_by=partition, order=order)
    rows = scan.copy()
    rows.set(
        "expressions",
        [
            *(d.copy() for d in dimensions),
            exp.alias_(value.copy(), quoted(VALUE), copy=False),
            exp.alias_(rank, quoted(ROW), copy=False),
        ],
    )
    return rows


def distinct_total(metric: Metric) -> exp.Expr:
    """Aggregate over `distinct_rows`: each key's first row counts once."""
    first = exp.EQ(this=column(ROW), expression=exp.Literal.number(1))
    kept = exp.Case(ifs=[exp.If(this=first, true=column(VALUE))])
    return _TOTALS[metric.type](kept)
