"""`${...}` references in user SQL: parsed once into sqlglot trees with marker nodes.

A snippet like `${TABLE}.amount * ${rate}` is parsed with each reference swapped for a
placeholder identifier; the resulting tree is later resolved by substituting each placeholder.
Markers the compiler replaces per query and dialect:

* `metric_ref(field id)`: a non-aggregate metric's reference to another metric;
* `interval_of(base tree, TimeInterval, DimensionType)`: a time interval child (its SQL
  depends on the target dialect);
* `attribute_ref(...)`: a user attribute, made a literal at query time;
* `parameter_ref(name)`: a Lightdash parameter, made a typed literal at query time.

Markers are `exp.Anonymous` calls of reserved `__metricql_*` functions (plain sqlglot nodes, so
they also work with the compiled `sqlglotc`); the compiler refuses SQL in which one is left.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from metricql.errors import CompileError
from metricql.semantic.fields import BadReference, DimensionType, TimeInterval
from metricql.semantic.source_sql import with_source_meaning

REFERENCE = re.compile(r"\$\{([^{}]*)\}")
_PLACEHOLDER = "__mq_ref_{}__"
_PLACEHOLDER_RE = re.compile(r"^__mq_ref_(\d+)__$")
_ATTRIBUTE_PREFIXES = {
    "lightdash.attributes": "attribute",
    "lightdash.attribute": "attribute",
    "lightdash.attr": "attribute",
    "ld.attributes": "attribute",
    "ld.attribute": "attribute",
    "ld.attr": "attribute",
    "lightdash.user": "user",
    "ld.user": "user",
}


MARK = "__metricql_"  # reserved function-name prefix of marker nodes
_QUOTABLE = ("lightdash.parameters.", "ld.parameters.")  # references users may write in quotes


def _marker(kind: str, *args: exp.Expr) -> exp.Anonymous:
    return exp.Anonymous(this=f"{MARK}{kind}", expressions=list(args))


def marker_kind(node: exp.Expr) -> str | None:
    """'metric', 'interval', 'attribute', 'distinct' for a marker node, else None."""
    name = node.this if isinstance(node, exp.Anonymous) else None
    if isinstance(name, str) and name.startswith(MARK):
        return name[len(MARK) :]
    return None


def metric_ref(field_id: str) -> exp.Expr:
    """Marker: a non-aggregate metric's reference to metric `field_id`."""
    return _marker("metric", exp.Literal.string(field_id))


def metric_ref_id(node: exp.Expr) -> str:
    """The field id a metric marker references."""
    return str(node.expressions[0].this)


def interval_of(
    base: exp.Expr, unit: TimeInterval, base_type: DimensionType, *, zoned: bool = True
) -> exp.Expr:
    """Marker: time-interval child `unit` of the date/timestamp tree `base`; `zoned` False
    (YAML `convert_timezone: false`) keeps it out of timezone buckets."""
    fixed = () if zoned else (exp.Literal.string("fixed"),)
    return _marker(
        "interval",
        base,
        exp.Literal.string(unit.value),
        exp.Literal.string(base_type.value),
        *fixed,
    )


def interval_parts(node: exp.Expr) -> tuple[exp.Expr, TimeInterval, DimensionType]:
    """(base tree, interval, base type) of an interval marker."""
    base, unit, kind = node.expressions[:3]
    return base, TimeInterval(unit.this), DimensionType(kind.this)


def interval_zoned(node: exp.Expr) -> bool:
    """Whether an interval marker may be bucketed in the query's timezone."""
    return len(node.expressions) < 4


def parameter_ref(name: str) -> exp.Expr:
    """Marker: Lightdash parameter `name` (`<name>` or `<model>.<name>`), a literal per query."""
    return _marker("parameter", exp.Literal.string(name))


def parameter_ref_name(node: exp.Expr) -> str:
    """The parameter name a parameter marker stands for."""
    return str(node.expressions[0].this)


def attribute_parts(node: exp.Expr) -> tuple[str, str]:
    """(attribute name, 'attribute' | 'user') of an attribute marker."""
    name, kind = node.expressions
    return str(name.this), str(kind.this)


_STATEMENTS = (
    exp.Query,
    exp.Command,
    exp.Block,
    exp.Create,
    exp.Drop,
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Alias,
)


@dataclass(frozen=True, slots=True)
class Snippet:
    """A parsed user SQL snippet: its tree and the reference text behind each placeholder."""

    text: str
    tree: exp.Expr
    refs: tuple[str, ...]


def attribute_ref(ref: str) -> exp.Expr | None:
    """`lightdash.attributes.region` → an attribute marker; None for other references."""
    head, _, name = ref.rpartition(".")
    kind = _ATTRIBUTE_PREFIXES.get(head)
    if kind is None or not name:
        return None
    return _marker("attribute", exp.Literal.string(name), exp.Literal.string(kind))


_TABLE_COLUMN = re.compile(r"^\$\{TABLE\}\.([A-Za-z_][A-Za-z0-9_]*)$")


_PARSED: dict[tuple[str, str], Snippet] = {}  # (text, dialect) → its snippet, oldest first
_PARSED_KEPT = 4096
_PARSED_LOCK = threading.Lock()


def parse_snippet(sql: str, dialect: str, **context: Any) -> Snippet:
    """Parse a user SQL expression with `${...}` references; errors name the snippet's owner.

    Each distinct text is parsed once per dialect (the same `sql:` recurs across models, and
    a cold load may make a model's definition more than once): snippet trees are read-only,
    every resolution copies them, so one tree serves every owner. Failures are not kept.
    """
    key = (sql, dialect)
    found = _PARSED.get(key)
    if found is None:
        found = _parse_snippet(sql, dialect, **context)
        with _PARSED_LOCK:
            if len(_PARSED) >= _PARSED_KEPT:
                del _PARSED[next(iter(_PARSED))]
            _PARSED[key] = found
    return found


def _parse_snippet(sql: str, dialect: str, **context: Any) -> Snippet:
    plain = _TABLE_COLUMN.match(sql)
    if plain:  # the default `${TABLE}.column` of every column: no need to run the parser
        column = exp.Column(
            this=exp.to_identifier(plain.group(1), quoted=False),
            table=exp.to_identifier(_PLACEHOLDER.format(0), quoted=False),
        )
        return Snippet(text=sql, tree=column, refs=("TABLE",))
    refs: list[str] = []

    def swap(match: re.Match[str]) -> str:
        refs.append(match.group(1).strip())
        return _PLACEHOLDER.format(len(refs) - 1)

    text = REFERENCE.sub(swap, sql)
    if "${" in text:
        raise CompileError(
            f"malformed reference in SQL {sql!r}",
            hint="references look like ${TABLE}.column, ${dimension} or ${table.dimension}",
            **context,
        )
    try:
        tree = sqlglot.parse_one(text, read=dialect)
    except RecursionError:  # the parser recurses once per bracket
        raise CompileError(
            f"SQL nests too deeply to parse ({len(sql)} characters)",
            hint="flatten the expression",
            **context,
        ) from None
    except (ParseError, TokenError) as err:
        raise CompileError(
            f"SQL does not parse: {sql!r} ({_first_line(err)})",
            hint=f"write a single {dialect} SQL expression; references use ${{...}}",
            **context,
        ) from None
    if not isinstance(tree, exp.Expr) or isinstance(tree, _STATEMENTS):
        raise CompileError(
            f"SQL must be an expression, not a statement: {sql!r}",
            hint="write an expression such as ${TABLE}.amount * 2",
            **context,
        )
    if refs:
        _restore_quoted(tree, refs)
    return Snippet(text=sql, tree=with_source_meaning(tree, dialect), refs=tuple(refs))


_PLACEHOLDER_IN_TEXT = re.compile(r"__mq_ref_(\d+)__")


def _restore_quoted(tree: exp.Expr, refs: list[str]) -> None:
    """`'${TABLE}'` inside a string literal is text, not a reference: put it back. A quoted
    parameter alone in its string is the exception Lightdash documents."""
    for literal in tree.find_all(exp.Literal):
        text = literal.this
        whole = _PLACEHOLDER_RE.match(text) if isinstance(text, str) else None
        if whole and refs[int(whole.group(1))].startswith(_QUOTABLE):
            continue  # '${lightdash.parameters.x}': a typed literal of the value (substitute)
        if literal.is_string and isinstance(text, str) and "__mq_ref_" in text:
            restored = _PLACEHOLDER_IN_TEXT.sub(lambda m: "${" + refs[int(m.group(1))] + "}", text)
            literal.set("this", restored)


def placeholder_index(node: exp.Expr) -> int | None:
    """Index of the reference a placeholder identifier stands for, else None."""
    if isinstance(node, exp.Identifier):
        m = _PLACEHOLDER_RE.match(node.name)
        return int(m.group(1)) if m else None
    return None


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def substitute(
    snippet: Snippet, table: str, replace_ref: Callable[[str], exp.Expr]
) -> tuple[exp.Expr, bool]:
    """A copy of the snippet's tree: `${TABLE}.col` → `"table".col`, any other `${ref}` →
    `replace_ref(ref)`. Returns the tree and whether `${TABLE}` occurred.

    Raises BadReference for `${x}.col` (only TABLE may prefix a column) and for a reference that
    does not stand for a whole value.
    """
    table_part = snippet.tree.args.get("table")
    if (
        snippet.refs == ("TABLE",)
        and isinstance(snippet.tree, exp.Column)
        and isinstance(table_part, exp.Identifier)
        and placeholder_index(table_part) == 0
    ):  # `${TABLE}.column`, most fields: build the result instead of copying and walking
        column = exp.Column(
            this=snippet.tree.this.copy(), table=exp.to_identifier(table, quoted=True)
        )
        return column, True
    tree = snippet.tree.copy()
    uses_table = False
    for quoted in list(tree.find_all(exp.Literal)):
        # '${lightdash.parameters.x}', as Lightdash users quote text parameters: the value
        # becomes a typed literal all the same (never text pasted into the SQL).
        whole = _PLACEHOLDER_RE.match(quoted.this) if quoted.is_string else None
        if whole and snippet.refs[int(whole.group(1))].startswith(_QUOTABLE):
            replacement = replace_ref(snippet.refs[int(whole.group(1))])
            if quoted is tree:
                tree = replacement
            else:
                quoted.replace(replacement)
    for ident in list(tree.find_all(exp.Identifier)):
        index = placeholder_index(ident)
        if index is None:
            continue
        ref = snippet.refs[index]
        parent = ident.parent
        if isinstance(parent, exp.Column) and parent.args.get("table") is ident:
            if ref != "TABLE":
                raise BadReference(ref, "only ${TABLE} may prefix a column")
            ident.replace(exp.to_identifier(table, quoted=True))
            uses_table = True
            continue
        if not isinstance(parent, exp.Column) or parent.args.get("table") is not None:
            raise BadReference(ref, "a reference must stand for a whole value")
        replacement = replace_ref(ref)
        if parent is tree:
            tree = replacement
        else:
            parent.replace(replacement)
    return tree, uses_table
