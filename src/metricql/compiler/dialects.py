"""Per-dialect corrections of sqlglot output, as data: one rule per construct it gets wrong.

`adapt(tree, dialect)` runs last, on the finished query tree, just before rendering.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlglot import exp

Rule = Callable[[exp.Expr], exp.Expr]

# dialect → node type → rewrite of that node (returning the node itself means "unchanged").
RULES: Mapping[str, Mapping[type[exp.Expr], Rule]] = {}


def adapt(tree: exp.Expr, dialect: str) -> exp.Expr:
    """Apply the dialect's rules to `tree` (in place on a tree the compiler built)."""
    rules = RULES.get(dialect)
    if not rules:
        return tree

    def rewrite(node: exp.Expr) -> exp.Expr:
        rule = rules.get(type(node))
        return rule(node) if rule else node

    return tree.transform(rewrite, copy=False)
