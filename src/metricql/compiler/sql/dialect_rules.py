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


_OPERANDS = (exp.Column, exp.Literal, exp.Func, exp.Paren)  # need no parentheses in `x * 100`


def _round_half_away(node: exp.Expr) -> exp.Expr:
    """ROUND(x, n) → (TRUNC(v) + SIGN(v) * (ABS(v - TRUNC(v)) >= 0.5)) / 10ⁿ with v = x * 10ⁿ.

    Halves go away from zero, as in DuckDB; ClickHouse's round(Float64) takes them to even
    (2.5 → 2). A Decimal cast, as for Postgres, would throw on the inf ClickHouse computes
    under the NULL of `x / nullIf(0, 0)`. DuckDB rounds the exact binary value, this the
    product x·10ⁿ as a double: they differ where that product is a half and x is not (2.675
    is 2.67499…, but 2.675 * 100 is 267.5). n < 0 divides; a non-literal n is left alone.
    """
    digits = node.args.get("decimals")
    if digits is not None and not digits.is_int:
        return node
    power = 0 if digits is None else int(digits.to_py())
    scale = exp.Literal.number(10 ** abs(power))
    value: exp.Expr = node.this if isinstance(node.this, _OPERANDS) else exp.paren(node.this)
    if power:
        value = (exp.Mul if power > 0 else exp.Div)(this=value, expression=scale)
    whole = exp.Trunc(this=value.copy())
    fraction = exp.Abs(this=exp.Sub(this=value.copy(), expression=whole.copy()))
    half = exp.paren(exp.GTE(this=fraction, expression=exp.Literal.number("0.5")))
    away = exp.Mul(this=exp.Sign(this=value.copy()), expression=half)
    rounded = exp.paren(exp.Add(this=whole, expression=away))
    if power:
        back = (exp.Div if power > 0 else exp.Mul)(this=rounded, expression=scale.copy())
        rounded = exp.paren(back)
    return rounded


def _exact(value: exp.Expr, fraction: exp.Expr) -> exp.Expr:
    """Spark's PERCENTILE(x, p): exact, interpolated like PERCENTILE_CONT."""
    return exp.Quantile(this=value, quantile=fraction)


def _exact_inclusive(value: exp.Expr, fraction: exp.Expr) -> exp.Expr:
    """ClickHouse's quantileExactInclusive(p)(x): exact, interpolated like PERCENTILE_CONT.

    Its `quantile` and `median` sample 8192 values (approximate beyond that), `quantileExact`
    does not interpolate.
    """
    return exp.ParameterizedAgg(this="quantileExactInclusive", expressions=[fraction],
                                params=[value])  # fmt: skip


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
    0.5), which it lacks too), BigQuery has none, ClickHouse's is sampled (approximate)."""
    return lambda node: build(node.this, exp.Literal.number("0.5"))


def _percentiles(build: Percentile, *, median: bool) -> dict[type[exp.Expr], Rule]:
    rules: dict[type[exp.Expr], Rule] = {
        exp.PercentileCont: _percentile_call(build),
        exp.WithinGroup: _percentile_within_group(build),
    }
    if median:
        rules[exp.Median] = _median(build)
    return rules


def _function(name: str) -> Rule:
    """F(x) → name(x): the same function under another name."""
    return lambda node: exp.Anonymous(this=name, expressions=[node.this])


# Expressions whose value is a truth value: ClickHouse gives them as UInt8 0/1, not Bool.
_CONDITIONS = (exp.Predicate, exp.Connector, exp.Not, exp.StartsWith, exp.EndsWith, exp.Contains)


def _condition_as_bool(node: exp.Expr) -> exp.Expr:
    """`cond AS a` → `CAST(cond AS Bool) AS a`: a boolean dimension or metric stays boolean.

    ClickHouse's comparisons, AND/OR/NOT, LIKE, IN, startsWith … return UInt8, so `amount >
    100 AS is_big` would reach the user as 0/1 where other engines give false/true.
    """
    value = node.this.unnest()
    if isinstance(value, _CONDITIONS):
        node.set("this", exp.cast(value, exp.DType.BOOLEAN, copy=False))
    return node


def _outer_join(tree: exp.Expr) -> bool:
    return any(join.side for join in tree.find_all(exp.Join))  # LEFT, RIGHT or FULL


def _aggregate_of_all_rows(tree: exp.Expr) -> bool:
    """A SELECT aggregating without GROUP BY (one row even of no rows); COUNT gives 0 anyway."""
    return any(
        not select.args.get("group")
        and any(
            not isinstance(agg, exp.Count) and not agg.find_ancestor(exp.Window)
            for agg in select.find_all(exp.AggFunc)
        )
        for select in tree.find_all(exp.Select)
    )


# ClickHouse setting → whether a query needs it. Both are off by default, and ClickHouse then
# gives a type's default (0, '', 1970-01-01, nan) where SQL gives NULL: for the columns of an
# unmatched outer-join row unless they are Nullable (so COUNT(joined key) counts that row and
# NULL groups become ''), and for SUM, AVG, MIN … of no rows (COUNT stays 0).
_STANDARD_NULLS: Mapping[str, Callable[[exp.Expr], bool]] = {
    "join_use_nulls": _outer_join,
    "aggregate_functions_null_for_empty": _aggregate_of_all_rows,
}


def _standard_nulls(node: exp.Expr) -> exp.Expr:
    """Outermost SELECT → the same … SETTINGS s = 1 for each of `_STANDARD_NULLS` it needs.

    Settings of the outermost SELECT hold for its subqueries and CTEs too, and override the
    server's and the user's profile.
    """
    if node.parent is not None:
        return node
    settings = list(node.args.get("settings") or [])
    for name, needed in _STANDARD_NULLS.items():
        setting = exp.EQ(this=exp.column(name), expression=exp.Literal.number(1))
        if setting not in settings and needed(node):
            settings.append(setting)
    if settings:
        node.set("settings", settings)
    return node


def _null_safe_eq_by_hand(node: exp.Expr) -> exp.Expr:
    """`a IS NOT DISTINCT FROM b` spelled out, for engines without the operator."""
    a, b = node.this, node.expression
    both_null = exp.and_(a.copy().is_(exp.null()), b.copy().is_(exp.null()), copy=False)
    return exp.paren(exp.or_(exp.EQ(this=a, expression=b), both_null, copy=False), copy=False)


# EXTRACT part names PostgreSQL spells its own way (same numbers: day 1-366, Sunday = 0, ISO
# weeks), as written in BigQuery, DuckDB, Snowflake: `EXTRACT(DAYOFYEAR …)` is an error there.
_POSTGRES_PARTS = {"DAYOFYEAR": "DOY", "DAYOFWEEK": "DOW", "DAYOFWEEKISO": "ISODOW",
                   "ISOWEEK": "WEEK", "WEEKISO": "WEEK"}  # fmt: skip


def _extract_parts(names: Mapping[str, str]) -> Rule:
    """EXTRACT(part FROM x) → EXTRACT(names[part] FROM x): parts the dialect spells otherwise."""

    def rule(node: exp.Expr) -> exp.Expr:
        part = node.this
        renamed = names.get(part.name.upper()) if isinstance(part, exp.Var) else None
        if renamed is not None:
            node.set("this", exp.var(renamed))
        return node

    return rule


# dialect → node type → rewrite of that node (returning the node itself means "unchanged").
RULES: Mapping[str, Mapping[type[exp.Expr], Rule]] = {
    "postgres": {exp.Round: _round_numeric, exp.Extract: _extract_parts(_POSTGRES_PARTS)},
    # Redshift lacks IS [NOT] DISTINCT FROM (unverified on a cluster; the OR form is valid
    # everywhere, only slower on engines that have the operator).
    "redshift": {exp.NullSafeEQ: _null_safe_eq_by_hand},
    "databricks": _percentiles(_exact, median=False),  # MEDIAN is exact there
    "spark": _percentiles(_exact, median=False),
    "trino": _percentiles(_approximate, median=True),
    "athena": _percentiles(_approximate, median=True),
    "bigquery": _percentiles(_approximate, median=True),
    "clickhouse": {
        **_percentiles(_exact_inclusive, median=True),
        exp.Round: _round_half_away,
        exp.Upper: _function("upperUTF8"),  # UPPER and LOWER change ASCII letters only
        exp.Lower: _function("lowerUTF8"),
        exp.Alias: _condition_as_bool,
        exp.Select: _standard_nulls,
    },
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
