"""Grand totals of a query (Lightdash's CalculateTotalFromQuery), in one extra query.

Every metric is recomputed over the raw rows the query covers — never summed from grouped
rows, so count_distinct and averages are right. Metric and table-calculation filters restrict
*which groups* count: the raw rows are inner-joined (NULL-safe) to the groups that pass.
"""

from __future__ import annotations

from sqlglot import exp

from metricql.compiler.compiled import CompiledQuery
from metricql.compiler.names import column, quoted
from metricql.compiler.table_calculations import HELPERS, UNSUPPORTED, result_field
from metricql.errors import CompileError, QueryError
from metricql.query.model import AndGroup, Filters, MetricQuery, OrGroup, TableCalculation, rules
from metricql.semantic.refs import parse_snippet

_WINDOWED = (exp.Window, exp.AggFunc)
PASSING = "passing_groups"
_HELPERS = frozenset(HELPERS) | UNSUPPORTED


def totals_query(query: MetricQuery) -> MetricQuery:
    """The derived query: no dimensions, sorts or limit; only totalable table calculations."""
    calcs = tuple(c for c in query.table_calculations if _totalable(c, query))
    if not query.metrics and not calcs:
        raise QueryError(
            "Nothing to total: the query has no metrics or totalable table calculations",
            hint="select at least one metric",
        )
    return query.model_copy(
        update={
            "dimensions": (),
            "custom_dimensions": tuple(
                c for c in query.custom_dimensions if any(_targets(query.filters.dimensions, c.id))
            ),
            "sorts": (),
            "limit": None,
            "table_calculations": calcs,
            "filters": Filters(dimensions=query.filters.dimensions),
        }
    )


def _targets(group: AndGroup | OrGroup | None, fid: str) -> list[bool]:
    return [True for r in rules(group) if r.target.field_id == fid]


def _totalable(calc: TableCalculation, query: MetricQuery) -> bool:
    """SQL calculations over metrics only, without window or aggregate functions."""
    if calc.sql is None:
        return False
    metrics = set(query.metrics)
    try:
        snippet = parse_snippet(calc.sql, "duckdb", field=calc.name)
    except CompileError:
        return False
    if not snippet.refs:
        return False
    if any(result_field(r, metrics) is None for r in snippet.refs):
        return False
    if any(True for _ in snippet.tree.find_all(*_WINDOWED)):
        return False
    # Row and total helpers (row(), total(), offset() …) have no meaning on a totals row.
    return not any(str(f.this).lower() in _HELPERS for f in snippet.tree.find_all(exp.Anonymous))


def restrict_to_groups(
    totals: exp.Select, groups: CompiledQuery, keys: list[tuple[exp.Expr, str]]
) -> exp.Select:
    """INNER JOIN the aggregation `totals` to the distinct groups of the original query."""
    columns: list[exp.Expr] = [column(fid) for _, fid in keys]
    passing = exp.select(*(columns or [exp.Literal.number(1)]))
    passing = passing.distinct().from_(
        exp.Subquery(this=groups.tree.copy(), alias=exp.TableAlias(this=exp.to_identifier("q")))
    )
    on = (
        exp.and_(
            *[
                exp.NullSafeEQ(
                    this=expr.copy(),
                    expression=exp.column(quoted(fid), table=exp.to_identifier(PASSING)),
                )
                for expr, fid in keys
            ]
        )
        if keys
        else exp.true()
    )
    return totals.join(
        exp.Subquery(this=passing, alias=exp.TableAlias(this=exp.to_identifier(PASSING))),
        on=on,
        join_type="INNER",
        copy=False,
    )
