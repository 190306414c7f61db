"""A structural copy of sqlglot trees, ~3× faster than `Expression.copy()` (pure Python).

sqlglot's copy (`deepcopy`) builds each node through `__init__` and `set`, which re-link
every child and clear cached hashes up the parent chain; a compile copies a thousand nodes
or more. Here each node is made with `object.__new__` and its slots are filled directly.
The result is the same tree: same node classes, args (in the same order), parents, arg keys,
indexes, comments, types, meta and cached hashes (tests/compiler/test_trees.py).
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any, TypeVar

from sqlglot import exp

E = TypeVar("E", bound=exp.Expr)
_Expr = exp.Expr


def copy_tree(node: E) -> E:
    """A copy of `node` and everything below it, detached (no parent)."""
    kind = type(node)
    new: Any = kind.__new__(kind)  # no __init__ (mypyc-compiled sqlglot refuses object.__new__)
    new.parent = new.arg_key = new.index = None
    new.comments = None if node.comments is None else list(node.comments)
    new._type = None if node._type is None else copy_tree(node._type)
    new._meta = None if node._meta is None else deepcopy(node._meta)
    new._hash = node._hash
    new.args = args = node.args.copy()  # same key order; children replaced below
    for key, value in args.items():
        if isinstance(value, _Expr):
            child = args[key] = copy_tree(value)
            child.parent = new
            child.arg_key = key
        elif type(value) is list:
            args[key] = [
                _child(v, new, key, i) if isinstance(v, _Expr) else v for i, v in enumerate(value)
            ]
    return new  # type: ignore[no-any-return]


def _child(node: exp.Expr, parent: exp.Expr, key: str, index: int) -> exp.Expr:
    child = copy_tree(node)
    child.parent = parent
    child.arg_key = key
    child.index = index
    return child


def _compiled_copy(node: E) -> E:
    return node.copy()


# With metricql[fast] (mypyc-compiled sqlglot) sqlglot's own copy is compiled, and faster.
if not hasattr(exp.Expr.copy, "__code__"):
    copy_tree = _compiled_copy
