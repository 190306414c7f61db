"""Per-dialect corrections of sqlglot output, as data: one rule per construct it gets wrong.

`adapt(tree, dialect)` runs last, on the finished query tree, just before rendering.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlglot import exp

Rule = Callable[[exp.Expr], exp.Expr]


def _round_numeric(node: exp.Expr) -> exp.Expr:
    """ROUND(x, n) → ROUND(CAST(x AS DECIMAL), n): Postgres has only ROUND(numeric, int).

    sqlglot adds the cast only when it can tell `x` is a DOUBLE, and it cannot for columns
    (`ROUND("orders".amount, 0)`: "function round(double precision, integer) does not exist").
    NUMERIC rounds halves away from zero, as DuckDB's ROUND does.
    """
    if node.args.get("decimals") is None or node.this.is_type(exp.DType.DECIMAL):
        return node
    node.set("this", exp.cast(node.this, exp.DType.DECIMAL, copy=False))
    return node


# dialect → node type → rewrite of that node (returning the node itself means "unchanged").
RULES: Mapping[str, Mapping[type[exp.Expr], Rule]] = {
    "postgres": {exp.Round: _round_numeric},
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
