"""YAML SQL keeps its meaning in every target: rewrites per source dialect, as data.

YAML SQL is written in the project's warehouse dialect and parsed once. sqlglot carries its syntax
to every target, but a few constructs only mean what they mean because of types the source knows:
BigQuery's `DATE_TRUNC(d, MONTH) - 1` subtracts a day from a DATE, while DuckDB's and PostgreSQL's
DATE_TRUNC return a TIMESTAMP, from which `- 1` is an error. Each rule rewrites one node of a tree
parsed from its source dialect into SQL that means the same in every target (the source
included), at parse time, so compiling pays nothing.

Spelling that only one *target* lacks (PostgreSQL's `EXTRACT(DOY …)` for `DAYOFYEAR`) is a
target rule in compiler/sql/dialect_rules.py, not here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from sqlglot import exp

Rule = Callable[[exp.Expr], exp.Expr]

# BigQuery functions that give a DATE for a DATE argument, where some targets give a TIMESTAMP.
_DATE_VALUED = (exp.DateTrunc, exp.DateAdd, exp.DateSub)


def _is_date_cast(node: exp.Expr | None) -> bool:
    return isinstance(node, exp.Cast) and node.to.is_type(exp.DType.DATE)


def _as_date(node: exp.Expr) -> exp.Expr:
    return node if _is_date_cast(node) else exp.cast(node, exp.DType.DATE, copy=False)


def _date_arithmetic(node: exp.Expr) -> exp.Expr:
    """BigQuery `date_fn(…) ± n` (n days: only a DATE takes ± INT64 there) → `CAST(… AS DATE) ± n`.

    DuckDB and PostgreSQL add days to a DATE too, but their DATE_TRUNC / DATE_ADD / DATE_SUB
    return a TIMESTAMP, from which `- 1` is an error. A plain column is left alone: it may be a
    number, and a DATE column subtracts days everywhere.
    """
    left, right = node.this, node.expression
    if isinstance(left, _DATE_VALUED) and not isinstance(right, exp.Interval):
        node.set("this", _as_date(left))
    return node


def _stays_date(node: exp.Expr) -> exp.Expr:
    """BigQuery `DATE_ADD(d, INTERVAL n unit)` / `DATE_SUB` (DATE only) → the same, as a DATE.

    DuckDB and PostgreSQL write it `d + INTERVAL …`, a TIMESTAMP: the rows would carry midnight
    timestamps where BigQuery gives dates.
    """
    return node if _is_date_cast(node.parent) else exp.cast(node, exp.DType.DATE, copy=False)


# source dialect → node type → rewrite (returning the node itself means "unchanged").
SOURCE_RULES: Mapping[str, Mapping[type[exp.Expr], Rule]] = MappingProxyType(
    {
        "bigquery": {
            exp.Sub: _date_arithmetic,
            exp.Add: _date_arithmetic,
            exp.DateAdd: _stays_date,
            exp.DateSub: _stays_date,
        },
    }
)


def with_source_meaning(tree: exp.Expr, dialect: str) -> exp.Expr:
    """`tree`, parsed from `dialect`, rewritten to mean the same in every target (in place)."""
    rules = SOURCE_RULES.get(dialect)
    if not rules:
        return tree

    def rewrite(node: exp.Expr) -> exp.Expr:
        rule = rules.get(type(node))
        return rule(node) if rule else node

    return tree.transform(rewrite, copy=False)
