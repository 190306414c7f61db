"""SQL names and small shapes every stage writes: quoted identifiers, columns, tables, GROUP BY
positions and the NULL-safe ratio. One definition each, so the SQL of every stage agrees."""

from __future__ import annotations

from sqlglot import exp

_FLOAT = exp.DataType.Type.DOUBLE


def quoted(name: str) -> exp.Identifier:
    """A quoted identifier (field ids, table aliases, CTE names)."""
    return exp.Identifier(this=name, quoted=True)


def aliased(node: exp.Expr, name: str) -> exp.Expr:
    """`node AS "name"`, in place: what `exp.alias_(node, quoted(name), copy=False)` builds,
    without its copy of the identifier."""
    if "alias" in node.arg_types and type(node) is not exp.Window:  # as exp.alias_ does
        node.set("alias", quoted(name))
        return node
    return exp.Alias(this=node, alias=quoted(name))


def column(name: str, table: str | None = None) -> exp.Column:
    """A quoted column, of a quoted table or CTE when given: `"t"."name"`."""
    # exp.column's args, without its copies of the identifiers (equal trees hash alike)
    return exp.Column(
        this=quoted(name), table=None if table is None else quoted(table), db=None, catalog=None
    )


def table(name: str) -> exp.Table:
    """A quoted table or CTE reference."""
    return exp.Table(this=quoted(name))


def select_from(items: list[exp.Expr], source: str) -> exp.Select:
    """`SELECT items FROM "source"` over fresh `items` (no builder copies)."""
    return exp.Select(expressions=items, from_=exp.From(this=table(source)))


def grouped(select: exp.Select, count: int) -> exp.Select:
    """`select` grouped by its first `count` items (`GROUP BY 1, 2, …`; none when 0), in place."""
    if not count:
        return select
    return select.group_by(*(exp.Literal.number(i + 1) for i in range(count)), copy=False)


def safe_ratio(numerator: exp.Expr, denominator: exp.Expr) -> exp.Expr:
    """`CAST(a AS DOUBLE) / CAST(NULLIF(b, 0) AS DOUBLE)`: NULL, not an error, for b = 0."""
    return exp.Div(
        this=exp.cast(numerator, _FLOAT),
        expression=exp.cast(exp.Nullif(this=denominator, expression=exp.Literal.number(0)), _FLOAT),
    )
