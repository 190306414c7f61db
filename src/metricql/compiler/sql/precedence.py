"""Operator precedence, in one place: a field's SQL embedded in a larger expression keeps its
meaning. sqlglot renders the tree as built and adds no parentheses of its own, so a boolean
dimension `status = 'active'` filtered `equals false` would render `status = 'active' = FALSE`
(refused by DuckDB and PostgreSQL) and `a + b` in a bin would become `a + b / 2`."""

from __future__ import annotations

from sqlglot import exp

# Operators that bind looser than a comparison or a function call may need. sqlglot makes AND
# and OR functions as well (`And(Connector, Func)`), so operators are listed, not atoms.
_OPERATORS = (exp.Binary, exp.Unary, exp.Predicate, exp.Connector)


def embedded(tree: exp.Expr) -> exp.Expr:
    """`tree` as an operand of a larger expression: in parentheses when it is an operator."""
    if isinstance(tree, exp.Paren) or not isinstance(tree, _OPERATORS):
        return tree
    return exp.Paren(this=tree)


def enclosed(condition: exp.Expr) -> exp.Expr:
    """AND/OR trees in parentheses, so any parent can embed them as they are."""
    if isinstance(condition, exp.Connector) or not isinstance(condition, exp.Expr):
        return exp.Paren(this=condition)
    return condition
