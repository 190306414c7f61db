"""Query-time SQL snippets (custom SQL dimensions, additional metrics) resolved on an explore."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlglot import exp

from metricql.errors import CompileError, QueryError, UnknownFieldError
from metricql.semantic.explore import Explore
from metricql.semantic.fields import BadReference, field_id, parse_field_ref
from metricql.semantic.parameters import parameter_name
from metricql.semantic.refs import attribute_ref, parameter_ref, parse_snippet, substitute


@dataclass(frozen=True, slots=True)
class QuerySnippet:
    """A resolved snippet: its tree (explore trees inlined), the tables and explore dimensions
    it reads."""

    tree: exp.Expr
    tables: frozenset[str]
    reads: frozenset[str] = frozenset()


def resolve_snippet(
    explore: Explore,
    sql: str,
    *,
    table: str,
    owner: str,
    extra_dimensions: Mapping[str, QuerySnippet] | None = None,
) -> QuerySnippet:
    """Parse `sql` in the explore's dialect; `${TABLE}`, `${dim}`, `${table.dim}` become trees.

    `extra_dimensions` (name → resolved snippet) lets custom SQL dimensions reference each other.
    """
    if table not in explore.tables:
        raise QueryError(
            f"{owner} references a table that doesn't exist in explore {explore.name!r}: {table!r}",
            hint=f"tables: {', '.join(explore.tables)}",
            explore=explore.name,
            field=owner,
        )
    try:
        snippet = parse_snippet(sql, explore.source_dialect, field=owner)
    except CompileError as err:  # the message names whose SQL it is
        raise QueryError(
            f"{owner!r}: {err.message}", hint=err.hint, field=owner, explore=explore.name
        ) from None
    tables: set[str] = set()
    reads: set[str] = set()

    def reference(ref: str) -> exp.Expr:
        found = _reference(explore, ref, table, owner, extra_dimensions or {})
        tables.update(found.tables)
        reads.update(found.reads)
        return found.tree

    try:
        tree, uses_table = substitute(snippet, table, reference)
    except BadReference as bad:
        raise _bad(owner, bad.ref, explore, bad.why) from None
    if uses_table:
        tables.add(table)
    return QuerySnippet(tree, frozenset(tables), frozenset(reads))


def _reference(
    explore: Explore, ref: str, table: str, owner: str, extra: Mapping[str, QuerySnippet]
) -> QuerySnippet:
    attr = attribute_ref(ref)
    if attr is not None:
        return QuerySnippet(attr, frozenset())
    parameter = parameter_name(ref)
    if parameter is not None:  # checked and made a literal by the finalizer
        return QuerySnippet(parameter_ref(parameter), frozenset())
    try:
        fid = field_id(*parse_field_ref(ref, table))
    except BadReference as bad:
        raise _bad(owner, ref, explore, bad.why) from None
    if fid == owner or ref == owner:
        raise QueryError(
            f"{owner} references itself", hint="remove the self-reference", field=owner
        )
    dim = explore.dimensions.get(fid)
    if dim is not None:
        tables = dim.tables_references or frozenset({dim.table})
        return QuerySnippet(exp.Paren(this=dim.sql.copy()), tables, frozenset({dim.id}))
    other = extra.get(ref)
    if other is not None:  # another custom dimension: its tree, and what it reads
        return QuerySnippet(exp.Paren(this=other.tree.copy()), other.tables, other.reads)
    raise UnknownFieldError(
        f"{owner} references ${{{ref}}}, which matches no dimension of explore {explore.name!r}",
        hint="reference dimensions as ${table.dimension}",
        explore=explore.name,
        field=owner,
    )


def _bad(owner: str, ref: str, explore: Explore, why: str) -> QueryError:
    return QueryError(
        f"{owner}: reference ${{{ref}}} cannot be resolved: {why}",
        hint="check the field name and table",
        explore=explore.name,
        field=owner,
    )
