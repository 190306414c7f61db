"""Custom dimensions of a query: numeric bins and SQL dimensions, as trees over explore fields."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlglot import exp

from metricql.compiler.features.snippets import QuerySnippet, resolve_snippet
from metricql.errors import QueryError, UnknownFieldError
from metricql.query.model import CustomBinDimension, CustomBinRange, CustomSqlDimension
from metricql.semantic.explore import Explore
from metricql.semantic.fields import DimensionType


@dataclass(frozen=True, slots=True)
class BinBounds:
    """The CTE a `fixed_number` bin needs: min, max and width of its parent over the query rows."""

    name: str
    parent: exp.Expr
    bins: int


@dataclass(frozen=True, slots=True)
class CustomDim:
    """A resolved custom dimension: select tree, optional sort tree, type, tables and explore
    dimensions read."""

    id: str
    label: str
    type: DimensionType
    select: exp.Expr
    tables: frozenset[str]
    order: exp.Expr | None = None
    bounds: BinBounds | None = None
    is_bin: bool = False
    reads: frozenset[str] = frozenset()

    @property
    def order_id(self) -> str:
        """Column that carries the bin's position, for sorting in bin order."""
        return f"{self.id}_order"


def custom_dimensions(
    explore: Explore, definitions: Sequence[CustomBinDimension | CustomSqlDimension]
) -> dict[str, CustomDim]:
    """Every custom dimension of the query, by id (selected or not)."""
    out: dict[str, CustomDim] = {}
    sql_dims: dict[str, QuerySnippet] = {}
    for definition in definitions:
        if definition.id in out:
            raise QueryError(
                f"two custom dimensions share the id {definition.id!r}",
                hint="give each custom dimension its own id",
                field=definition.id,
            )
        if definition.id in explore.dimensions or definition.id in explore.metrics:
            raise QueryError(
                f"custom dimension id {definition.id!r} clashes with a field of the explore",
                hint="give the custom dimension another id",
                field=definition.id,
            )
        if isinstance(definition, CustomSqlDimension):
            dim = _sql_dimension(explore, definition, sql_dims)
            sql_dims[definition.name] = QuerySnippet(dim.select, dim.tables, dim.reads)
        else:
            dim = _bin_dimension(explore, definition)
        out[dim.id] = dim
    return out


def _sql_dimension(
    explore: Explore, definition: CustomSqlDimension, others: dict[str, QuerySnippet]
) -> CustomDim:
    resolved = resolve_snippet(
        explore,
        definition.sql,
        table=definition.table,
        owner=definition.id,
        extra_dimensions=others,
    )
    if any(True for _ in resolved.tree.find_all(exp.AggFunc, exp.Window)):
        raise QueryError(
            f"custom SQL dimension {definition.id!r} contains an aggregate or window function",
            hint="a dimension is computed per row; use an additional metric to aggregate",
            field=definition.id,
        )
    return CustomDim(
        id=definition.id,
        label=definition.name,
        type=DimensionType(definition.dimension_type),
        select=resolved.tree,
        tables=resolved.tables or frozenset({definition.table}),
        reads=resolved.reads,
    )


def _bin_dimension(explore: Explore, definition: CustomBinDimension) -> CustomDim:
    parent = explore.dimensions.get(definition.dimension_id)
    if parent is None:
        raise UnknownFieldError(
            f"custom bin {definition.id!r} is based on unknown dimension "
            f"{definition.dimension_id!r}",
            hint="dimensionId must be a number dimension of the explore",
            field=definition.id,
            explore=explore.name,
        )
    if parent.type is not DimensionType.NUMBER:
        raise QueryError(
            f"custom bin {definition.id!r} needs a number dimension, but "
            f"{parent.id!r} is {parent.type.value}",
            hint="bin a number dimension, or use a custom SQL dimension",
            field=definition.id,
        )
    x = parent.sql
    tables = parent.tables_references or frozenset({parent.table})
    common = {
        "id": definition.id,
        "label": definition.name,
        "type": DimensionType.STRING,
        "tables": tables,
        "is_bin": True,
        "reads": frozenset({parent.id}),
    }
    if definition.bin_type == "fixed_width":
        width = _positive(definition.bin_width, definition, "binWidth")
        start = _int(exp.Floor(this=_div(x, _num(width))) * _num(width))
        end = start.copy() + _num(width) - exp.Literal.number(1)
        label = _null_safe(x, _concat(start.copy(), " - ", end))
        return CustomDim(select=label, order=start, **common)  # type: ignore[arg-type]
    if definition.bin_type == "custom_range":
        return _range_bins(x, definition, common)
    return _fixed_number_bins(x, definition, common)


def _fixed_number_bins(
    x: exp.Expr, definition: CustomBinDimension, common: dict[str, object]
) -> CustomDim:
    n = definition.bin_number
    if n is None or n < 1:
        raise QueryError(
            f"custom bin {definition.id!r}: binNumber must be a whole number ≥ 1, got {n!r}",
            hint="set binNumber, e.g. 5",
            field=definition.id,
        )
    cte = f"{definition.id}_cte"

    def col(name: str) -> exp.Expr:
        return exp.column(name, table=exp.to_identifier(cte, quoted=True))

    def edge(i: int) -> exp.Expr:
        return col("min_id") + col("bin_width") * exp.Literal.number(i)

    ifs, orders = [], []
    for i in range(n - 1):
        inside = exp.and_(x.copy() >= edge(i), x.copy() < edge(i + 1))
        ifs.append(exp.If(this=inside, true=_concat(edge(i), " - ", edge(i + 1))))
        orders.append(exp.If(this=inside.copy(), true=exp.Literal.number(i)))
    last = _concat(edge(n - 1), " - ", col("max_id"))
    label = exp.Case(
        ifs=[exp.If(this=x.copy().is_(exp.null()), true=exp.null()), *ifs], default=last
    )
    order = exp.Case(
        ifs=[exp.If(this=x.copy().is_(exp.null()), true=exp.Literal.number(n)), *orders],
        default=exp.Literal.number(n - 1),
    )
    return CustomDim(select=label, order=order, bounds=BinBounds(cte, x, n), **common)  # type: ignore[arg-type]


def _range_bins(
    x: exp.Expr, definition: CustomBinDimension, common: dict[str, object]
) -> CustomDim:
    ranges: Sequence[CustomBinRange] = definition.custom_range or ()
    if not ranges:
        raise QueryError(
            f"custom bin {definition.id!r}: customRange is empty",
            hint="give at least one range, e.g. [{to: 10}, {from: 10}]",
            field=definition.id,
        )
    ifs, orders = [], []
    for i, r in enumerate(ranges):
        parts: list[exp.Expr] = []
        if r.from_ is not None:
            parts.append(x.copy() >= _num(r.from_))
        if r.to is not None:
            parts.append(x.copy() < _num(r.to))
        if not parts:
            raise QueryError(
                f"custom bin {definition.id!r}: range {i + 1} has neither from nor to",
                hint="each range needs from, to, or both",
                field=definition.id,
            )
        if r.from_ is not None and r.to is not None and r.from_ >= r.to:
            raise QueryError(
                f"custom bin {definition.id!r}: range {i + 1} has from ≥ to",
                hint="write ranges with from < to",
                field=definition.id,
            )
        cond = exp.and_(*parts)
        ifs.append(exp.If(this=cond, true=exp.Literal.string(_range_label(r))))
        orders.append(exp.If(this=cond.copy(), true=exp.Literal.number(i)))
    null = x.copy().is_(exp.null())
    label = exp.Case(ifs=[exp.If(this=null, true=exp.null()), *ifs])
    order = exp.Case(ifs=[exp.If(this=null.copy(), true=exp.Literal.number(len(ranges))), *orders])
    return CustomDim(select=label, order=order, **common)  # type: ignore[arg-type]


def _range_label(r: CustomBinRange) -> str:
    if r.from_ is None:
        return f"<{_fmt(r.to)}"
    if r.to is None:
        return f"≥{_fmt(r.from_)}"
    return f"{_fmt(r.from_)}-{_fmt(r.to)}"


def _fmt(value: float | None) -> str:
    assert value is not None
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _positive(value: float | None, definition: CustomBinDimension, key: str) -> float:
    if value is None or value <= 0:
        raise QueryError(
            f"custom bin {definition.id!r}: {key} must be a number > 0, got {value!r}",
            hint=f"set {key}, e.g. 10",
            field=definition.id,
        )
    return value


def _num(value: float) -> exp.Expr:
    return exp.Literal.number(int(value) if float(value).is_integer() else value)


def _div(a: exp.Expr, b: exp.Expr) -> exp.Expr:
    """a / b in floating point on every dialect (Postgres would divide integers exactly)."""
    return exp.Div(
        this=exp.cast(exp.paren(a.copy(), copy=False), exp.DataType.Type.DOUBLE),
        expression=exp.paren(b, copy=False),
    )


def _int(e: exp.Expr) -> exp.Expr:
    return exp.cast(e, exp.DataType.Type.BIGINT)


def _concat(a: exp.Expr, sep: str, b: exp.Expr) -> exp.Expr:
    as_text = [
        exp.cast(_int(a) if not isinstance(a, exp.Cast) else a, exp.DataType.Type.TEXT),
        exp.Literal.string(sep),
        exp.cast(_int(b) if not isinstance(b, exp.Cast) else b, exp.DataType.Type.TEXT),
    ]
    return exp.Concat(expressions=as_text)


def _null_safe(x: exp.Expr, label: exp.Expr) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=x.copy().is_(exp.null()), true=exp.null())], default=label)


def bounds_select(bounds: BinBounds, parent: exp.Expr) -> list[exp.Expr]:
    """Select list of a fixed_number bin's CTE, over the already-finalised parent tree."""
    lo, hi = exp.Min(this=parent.copy()), exp.Max(this=parent.copy())
    return [
        exp.alias_(_int(exp.Floor(this=lo)), "min_id", copy=False),
        exp.alias_(_int(exp.Ceil(this=hi)), "max_id", copy=False),
        exp.alias_(
            _int(exp.Floor(this=_div(hi.copy() - lo.copy(), exp.Literal.number(bounds.bins)))),
            "bin_width",
        ),
    ]
