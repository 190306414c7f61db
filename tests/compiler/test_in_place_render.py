"""A compile renders its tree in place (no defensive copy): the SQL, the tree it hands out and
every shared tree must be exactly what rendering a copy gives, in every dialect.

sqlglot's transforms rewrite the tree they render (Snowflake's WITHIN GROUP, BigQuery's
UNNEST, CTEs moved to the top…). Rendering in place is only safe when the whole tree is the
compile's own: a shared explore or cache tree inside it would be rewritten for every later
compile. `compiled.tree` is built again when read, so it is the untransformed tree.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import fields, is_dataclass
from typing import Any

import pytest
from sqlglot import exp

import metricql as mq
from metricql.compiler.compile import compilation
from metricql.compiler.compiled import BuiltOnRead
from metricql.compiler.options import CompileOptions
from metricql.compiler.sql.field_sql import _FINAL_TREES
from metricql.dialects import SUPPORTED
from tests.conftest import SAMPLE
from tests.engines.queries import NOW, QUERIES, rule
from tests.engines.queries import query as q


def _trees(value: Any, seen: set[int]) -> Iterator[exp.Expr]:
    """Every sqlglot tree reachable from `value` (an explore: dataclasses, maps, tuples)."""
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, exp.Expr):
        yield value
    elif is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            yield from _trees(getattr(value, f.name), seen)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _trees(item, seen)
    elif isinstance(value, (tuple, list, frozenset, set)):
        for item in value:
            yield from _trees(item, seen)


def _snapshot(project: mq.Project) -> dict[int, str]:
    """Full structure of every explore tree and every cached final tree, by identity."""
    seen: set[int] = set()
    out = {id(t): repr(t) for e in project.explores.values() for t in _trees(e, seen)}
    out.update({id(tree): repr(tree) for entry in _FINAL_TREES.values() for tree in entry})
    return out


@pytest.fixture(scope="module")
def compiled_everywhere() -> tuple[mq.Project, dict[tuple[str, str], mq.CompiledQuery]]:
    """A project of its own (its trees are checked), every engine query in every dialect."""
    project = mq.load_project(SAMPLE)
    out = {}
    for dialect in SUPPORTED:
        for name, query in QUERIES.items():
            try:
                out[dialect, name] = project.compile(query, dialect=dialect, now=NOW)
            except mq.MetricQLError:
                continue  # unsupported in this dialect: raised before rendering
    return project, out


def test_every_query_compiles_in_most_dialects(
    compiled_everywhere: tuple[mq.Project, dict[tuple[str, str], mq.CompiledQuery]],
) -> None:
    _, compiled = compiled_everywhere
    for dialect in SUPPORTED:
        assert sum(d == dialect for d, _ in compiled) >= len(QUERIES) * 0.9, dialect


@pytest.mark.parametrize("dialect", SUPPORTED)
def test_sql_is_what_rendering_a_copy_of_the_tree_gives(
    compiled_everywhere: tuple[mq.Project, dict[tuple[str, str], mq.CompiledQuery]],
    dialect: str,
) -> None:
    _, compiled = compiled_everywhere
    for (d, name), query in compiled.items():
        if d != dialect:
            continue
        assert isinstance(query, BuiltOnRead), name
        tree = query.tree  # built again: the rendered one was rewritten in place
        assert query.tree is tree, name  # built once
        assert tree.sql(dialect=dialect) == query.sql, f"{dialect} {name}"
        assert tree.sql(dialect=dialect) == query.sql, f"{dialect} {name}: the copy rendered"


def test_compiling_leaves_every_shared_tree_unchanged() -> None:
    project = mq.load_project(SAMPLE)
    for query in QUERIES.values():  # fill the final-tree cache first
        project.compile(query, dialect="duckdb", now=NOW)
    before = _snapshot(project)
    first: dict[tuple[str, str], str] = {}
    for dialect in SUPPORTED:
        for name, query in QUERIES.items():
            try:
                first[dialect, name] = project.compile(query, dialect=dialect, now=NOW).sql
            except mq.MetricQLError:
                continue
    after = _snapshot(project)
    changed = [k for k in before if k in after and before[k] != after[k]]
    assert not changed, f"{len(changed)} shared trees rewritten, e.g. {before[changed[0]]}"
    fresh = mq.load_project(SAMPLE)  # same SQL from a project no compile has touched
    for (dialect, name), sql in first.items():
        assert fresh.compile(QUERIES[name], dialect=dialect, now=NOW).sql == sql, name


@pytest.mark.parametrize("dialect", SUPPORTED)
def test_totals_and_their_tree_agree(project: mq.Project, dialect: str) -> None:
    """Totals of a query with a metric filter read the tree of the grouped query."""
    query = q(
        "orders",
        ("orders_status",),
        ("orders_total_revenue", "orders_order_count"),
        having=rule("orders_total_revenue", "greaterThan", 10),
    )
    totals = project.compile_totals(query, dialect=dialect)
    assert totals.tree.sql(dialect=dialect) == totals.sql
    assert "passing_groups" in totals.sql


@pytest.mark.parametrize("dialect", SUPPORTED)
def test_a_kept_tree_is_the_rendered_one_untouched(project: mq.Project, dialect: str) -> None:
    """Period-over-period and totals read their parts' trees: those compiles keep theirs."""
    query = QUERIES["join_orders_to_payments_fanout"]
    explore = project.explore(query.explore_name)
    options = CompileOptions(dialect=dialect, now=NOW)
    kept = compilation(explore, query, options, keep_tree=True).result
    assert isinstance(kept, BuiltOnRead) and kept._built is not None  # no rebuild on read
    assert kept.tree.sql(dialect=dialect) == kept.sql
    assert compilation(explore, query, options).result._built is None  # built on read
