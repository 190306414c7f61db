"""SQL names and small shapes every stage writes: quoted identifiers, columns, tables, GROUP BY
positions and the NULL-safe ratio. One definition each, so the SQL of every stage agrees."""

from __future__ import annotations

from sqlglot import exp

_FLOAT = exp.DataType.Type.DOUBLE


def quoted(name: str) -> exp.Identifier:
    """A quoted identifier (field ids, table aliases, CTE names)."""
    return exp.to_identifier(name, quoted=True)


def column(name: str, table: str | None = None) -> exp.Column:
    """A quoted column, of a quoted table or CTE when given: `"t"."name"`."""
    return exp.column(quoted(name), table=quoted(table) if table is not None else None)


def table(name: str) -> exp.Table:
    """A quoted table or CTE reference."""
    return exp.Table(this=quoted(name))


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
