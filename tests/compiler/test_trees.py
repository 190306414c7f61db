"""copy_tree gives exactly the tree sqlglot's own copy gives, and shares nothing with it."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types

import metricql as mq
from metricql.compiler.sql.trees import copy_tree
from metricql.dialects import SUPPORTED
from tests.compiler.test_in_place_render import _trees
from tests.engines.queries import NOW, QUERIES

SQL = [
    "SELECT a, b AS c FROM t WHERE x > 1 AND y IN (1, 2, 'z') GROUP BY 1 ORDER BY 2 DESC",
    "SELECT /* note */ CAST(a AS DECIMAL(10, 2)) -- trailing\nFROM s.t AS u",
    "WITH w AS (SELECT 1 AS x) SELECT SUM(CASE WHEN x = 1 THEN x END) OVER (PARTITION BY x) FROM w",
    "SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY x) FROM t LEFT JOIN u ON t.a = u.a",
    "SELECT COUNT(DISTINCT a), DATE_TRUNC('month', b), b::TIMESTAMP, NULL, TRUE FROM t",
]


def _same(a: exp.Expr, b: exp.Expr) -> None:
    """Same structure, node by node; no node shared."""
    assert a is not b and type(a) is type(b)
    assert (a.arg_key, a.index, a.comments, a._meta) == (b.arg_key, b.index, b.comments, b._meta)
    # A cached hash is kept (sqlglot's copy keeps only the leaves'): it is the structure's.
    assert b._hash is None or b._hash == hash(a)
    assert a.comments is None or a.comments is not b.comments
    assert (a._type is None) == (b._type is None)
    if a._type is not None:
        _same(a._type, b._type)
    assert list(a.args) == list(b.args)  # same keys in the same order
    for key, value in a.args.items():
        other = b.args[key]
        if isinstance(value, exp.Expr):
            assert other.parent is b
            _same(value, other)
        elif isinstance(value, list):
            assert type(other) is list and len(value) == len(other) and value is not other
            for x, y in zip(value, other, strict=True):
                if isinstance(x, exp.Expr):
                    assert y.parent is b
                    _same(x, y)
                else:
                    assert x == y
        else:
            assert value == other


def _check(tree: exp.Expr) -> None:
    mine, theirs = copy_tree(tree), tree.copy()
    assert mine.parent is None and mine.arg_key is None and mine.index is None
    _same(theirs, mine)
    assert mine == tree and mine.sql() == tree.sql()
    assert not {id(n) for n in mine.walk()} & {id(n) for n in tree.walk()}


@pytest.mark.parametrize("sql", SQL)
def test_parsed_trees(sql: str) -> None:
    tree = sqlglot.parse_one(sql)
    _check(tree)
    annotated = annotate_types(tree.copy())  # every node typed
    _check(annotated)
    hashed = tree.copy()
    hash(hashed)  # cached hashes are kept
    hashed.find(exp.Column).meta["k"] = {"nested": [1]}  # type: ignore[union-attr]
    _check(hashed)
    inner = hashed.find(exp.From)
    assert inner is not None
    _check(inner)  # a subtree: detached, its parent not copied


def test_every_explore_tree(project: mq.Project) -> None:
    seen: set[int] = set()
    found = [t for e in project.explores.values() for t in _trees(e, seen)]
    assert len(found) > 100
    for tree in found:
        _check(tree)


@pytest.mark.parametrize("dialect", SUPPORTED)
def test_every_compiled_tree(project: mq.Project, dialect: str) -> None:
    for query in QUERIES.values():
        try:
            tree = project.compile(query, dialect=dialect, now=NOW).tree
        except mq.MetricQLError:
            continue
        _check(tree)
