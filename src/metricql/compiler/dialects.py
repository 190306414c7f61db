"""Per-dialect corrections of sqlglot output, as data: one rule per construct it gets wrong.

`adapt(tree, dialect)` runs last, on the finished query tree, just before rendering. A rule
gets one node of its type and returns it (changed in place) or the node to put in its place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from sqlglot import exp

Rule = Callable[[exp.Expr], exp.Expr]
Percentile = Callable[[exp.Expr, exp.Expr], exp.Expr]  # (value, fraction) → aggregate


def _round_numeric(node: exp.Expr) -> exp.Expr:
    """ROUND(x[, n]) → ROUND(CAST(x AS DECIMAL)[, n]): DuckDB's rounding, valid in Postgres.

    Postgres has no ROUND(double precision, int) ("function round(double precision, integer)
    does not exist"); sqlglot adds the cast only when it can tell `x` is a DOUBLE, and it
    cannot for columns. Its ROUND(double precision) rounds halves to even (2.5 → 2) where
    DuckDB's goes away from zero (→ 3), as NUMERIC's does.
    """
    if not node.this.is_type(exp.DType.DECIMAL):
        node.set("this", exp.cast(node.this, exp.DType.DECIMAL, copy=False))
    return node


def _exact(value: exp.Expr, fraction: exp.Expr) -> exp.Expr:
    """Spark's PERCENTILE(x, p): exact, interpolated like PERCENTILE_CONT."""
    return exp.Quantile(this=value, quantile=fraction)


def _approximate(value: exp.Expr, fraction: exp.Expr) -> exp.Expr:
    """APPROX_PERCENTILE (Trino) / APPROX_QUANTILES(x, n)[k] (BigQuery): no exact aggregate."""
    return exp.ApproxQuantile(this=value, quantile=fraction)


def _percentile_call(build: Percentile) -> Rule:
    """PERCENTILE_CONT(x, p), the form the compiler builds, → `build(x, p)`.

    sqlglot prints it as `PERCENTILE_CONT(x, p)` in Spark, Databricks, Trino and BigQuery,
    where that is no aggregate (Spark and Databricks only take `PERCENTILE_CONT(p) WITHIN
    GROUP (…)`, Trino has no PERCENTILE_CONT, BigQuery's is a window function only).
    """

    def rule(node: exp.Expr) -> exp.Expr:
        fraction = node.args.get("expression")
        return node if fraction is None else build(node.this, fraction)

    return rule


def _percentile_within_group(build: Percentile) -> Rule:
    """PERCENTILE_CONT(p) WITHIN GROUP (ORDER BY x [DESC]), from a user's SQL, → `build(x, p)`.

    sqlglot turns it into the approximate PERCENTILE_APPROX in Spark and Databricks, and
    keeps a syntax Trino and BigQuery lack. DESC takes the 1 - p percentile.
    """

    def rule(node: exp.Expr) -> exp.Expr:
        inner, order = node.this, node.expression
        ordered = order.expressions if isinstance(order, exp.Order) else []
        if not isinstance(inner, exp.PercentileCont) or inner.args.get("expression") is not None:
            return node
        if len(ordered) != 1:
            return node
        fraction = inner.this
        if ordered[0].args.get("desc"):
            if not (isinstance(fraction, exp.Literal) and fraction.is_number):
                return node
            fraction = exp.Literal.number(str(1 - Decimal(fraction.name)))
        return build(ordered[0].this, fraction)

    return rule


def _median(build: Percentile) -> Rule:
    """MEDIAN(x) → `build(x, 0.5)`: Trino has no MEDIAN (sqlglot writes PERCENTILE_CONT(x,
    0.5), which it lacks too) and BigQuery has none."""
    return lambda node: build(node.this, exp.Literal.number("0.5"))


def _percentiles(build: Percentile, *, median: bool) -> dict[type[exp.Expr], Rule]:
    rules: dict[type[exp.Expr], Rule] = {
        exp.PercentileCont: _percentile_call(build),
        exp.WithinGroup: _percentile_within_group(build),
    }
    if median:
        rules[exp.Median] = _median(build)
    return rules


# dialect → node type → rewrite of that node (returning the node itself means "unchanged").
RULES: Mapping[str, Mapping[type[exp.Expr], Rule]] = {
    "postgres": {exp.Round: _round_numeric},
    "databricks": _percentiles(_exact, median=False),  # MEDIAN is exact there
    "spark": _percentiles(_exact, median=False),
    "trino": _percentiles(_approximate, median=True),
    "athena": _percentiles(_approximate, median=True),
    "bigquery": _percentiles(_approximate, median=True),
}


def adapt(tree: exp.Expr, dialect: str) -> exp.Expr:
    """Apply the dialect's rules to `tree` (in place on a tree the compiler built)."""
    rules = RULES.get(dialect)
    if not rules:
        return tree

    def rewrite(node: exp.Expr) -> exp.Expr:
        rule = rules.get(type(node))
        return rule(node) if rule else node

    return tree.transform(rewrite, copy=False)
