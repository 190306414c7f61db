"""Lightdash's table-calculation functions — row(), total(), row_total(), offset(), index() —
as SQL over the query's result columns, and the window builder they share with templates and
post-calculation metrics."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from sqlglot import exp

from metricql.compiler.sql.names import column
from metricql.errors import QueryError

OrderKey = tuple[str | exp.Expr, bool | None]  # result column (or expression), descending


def window(
    fn: exp.Expr,
    *,
    partition: Sequence[str] = (),
    order: Sequence[OrderKey] = (),
    spec: exp.WindowSpec | None = None,
) -> exp.Window:
    """`fn OVER (PARTITION BY … ORDER BY … [frame])` over result columns."""
    args: dict[str, object] = {"this": fn}
    if partition:
        args["partition_by"] = [column(p) for p in partition]
    if order:
        args["order"] = exp.Order(
            expressions=[
                exp.Ordered(this=column(f) if isinstance(f, str) else f.copy(), desc=bool(desc))
                for f, desc in order
            ]
        )
    if spec is not None:
        args["spec"] = spec
    return exp.Window(**args)


RUNNING = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW")


TOTALS_CTE = "column_totals"


def total_column(metric_id: str) -> str:
    """Column of `column_totals` holding a metric's grand total."""
    return f"{metric_id}__total"


@dataclass(frozen=True, slots=True)
class PivotScope:
    """Columns of a pivoted query: its pivot (group-by) columns and its other dimensions."""

    columns: tuple[str, ...] = ()
    rows: tuple[str, ...] = ()


NO_PIVOT = PivotScope()


@dataclass(frozen=True, slots=True)
class _Call:
    """One helper call inside calculation `calc`: what a helper builder reads."""

    node: exp.Anonymous
    calc: str
    sorts: Sequence[OrderKey]
    totals: set[str]  # filled with the metrics whose grand total the calculation reads
    pivot: PivotScope = NO_PIVOT  # row functions count within one pivot column

    @property
    def fn(self) -> str:
        return str(self.node.this).lower()

    def field(self) -> str:
        """The result column of the first argument, which must be a `${table.field}`."""
        args = self.node.expressions
        if not args or not isinstance(args[0], exp.Column) or not args[0].this.quoted:
            raise QueryError(
                f"table calculation {self.calc!r}: {self.fn}() takes a field reference "
                "like ${table.metric}",
                hint=f"write {self.fn}(${{table.field}})",
                field=self.calc,
            )
        return str(args[0].name)

    def offset(self) -> int:
        """The whole-number second argument (negative: rows before)."""
        args = self.node.expressions
        value = args[1] if len(args) > 1 else None
        number = value.this if isinstance(value, exp.Neg) else value
        if not isinstance(number, exp.Literal) or number.is_string:
            raise QueryError(
                f"table calculation {self.calc!r}: {self.fn}() needs a whole-number offset",
                hint=f"e.g. {self.fn}(${{table.field}}, -1)",
                field=self.calc,
            )
        n = int(float(number.this))
        return -n if isinstance(value, exp.Neg) else n


def _total(call: _Call) -> exp.Expr:
    metric = call.field()
    call.totals.add(metric)
    return exp.Subquery(this=exp.select(column(total_column(metric))).from_(TOTALS_CTE))


def _offset(call: _Call) -> exp.Expr:
    col, n = column(call.field()), call.offset()
    if n == 0:
        return col
    shifted = exp.Lag if n < 0 else exp.Lead
    return window(
        shifted(this=col, offset=exp.Literal.number(abs(n))),
        partition=call.pivot.columns,
        order=call.sorts,
    )


_EVERY_ROW = exp.WindowSpec(
    kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="UNBOUNDED", end_side="FOLLOWING"
)


def _index(call: _Call) -> exp.Expr:
    nth = [column(call.field()), exp.Literal.number(call.offset())]
    return window(
        exp.Anonymous(this="NTH_VALUE", expressions=nth),
        partition=call.pivot.columns,
        order=call.sorts,
        spec=_EVERY_ROW.copy(),
    )


def _row_total(call: _Call) -> exp.Expr:
    """The metric summed over the pivot columns of its row; the metric itself unpivoted."""
    if not call.pivot.columns:
        return column(call.field())
    return window(exp.Sum(this=column(call.field())), partition=call.pivot.rows or ())


# Lightdash's table-calculation functions, by lower-case name.
HELPERS: Mapping[str, Callable[[_Call], exp.Expr]] = MappingProxyType(
    {
        "row": lambda c: window(exp.RowNumber(), partition=c.pivot.columns, order=c.sorts),
        "total": _total,
        "row_total": _row_total,
        "offset": _offset,
        "index": _index,
    }
)
# Lightdash functions metricql recognises but does not compile (as are all `pivot_*`).
UNSUPPORTED = frozenset({"offset_list", "lookup", "list"})


def rewrite_helpers(
    name: str,
    tree: exp.Expr,
    sorts: Sequence[OrderKey],
    totals: set[str],
    pivot: PivotScope = NO_PIVOT,
) -> exp.Expr:
    """Every helper call of `tree` rewritten to SQL over the result columns (see HELPERS)."""

    def rewrite(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Anonymous):
            return node
        helper = HELPERS.get(str(node.this).lower())
        return helper(_Call(node, name, sorts, totals, pivot)) if helper is not None else node

    return tree.transform(rewrite)
