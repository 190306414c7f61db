"""The SQL of a pivoted query: the query's own SELECT, then the cells ranked and limited.

    WITH <the query's CTEs>,
      original_query AS (<the query, without ORDER BY and LIMIT>),
      group_by_query AS (SELECT index…, group_by…, AGG(value) AS "value_agg" … GROUP BY …),
      anchors AS (SELECT *, <a row and a column total per value sort> FROM group_by_query),
      ranked AS (SELECT *, DENSE_RANK() OVER (ORDER BY row keys) AS row_index,
                           DENSE_RANK() OVER (ORDER BY column keys) AS column_index FROM anchors),
      counted AS (SELECT *, MAX(row_index) OVER () AS total_rows,
                            MAX(column_index) OVER () AS total_columns FROM ranked)
    SELECT index…, group_by…, values…, row_index, column_index, total_rows, total_columns
    FROM counted WHERE row_index <= <rows> AND column_index <= <columns>
    ORDER BY row_index, column_index

One cell per row: index rows × the first column combinations, the row limit counting index
rows, never raw rows. NULLs sort last in every dialect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sqlglot import exp

from metricql.compiler.features.pivots import (
    COLUMN_INDEX,
    ROW_INDEX,
    TOTAL_COLUMNS,
    TOTAL_ROWS,
    Pivot,
    PivotSortKey,
)
from metricql.compiler.sql.names import column, grouped, quoted

Aggregate = Callable[[exp.Expr], exp.Expr]

CELL: Mapping[str, Aggregate] = {  # a cell from the original rows
    "sum": lambda x: exp.Sum(this=x),
    "count": lambda x: exp.Count(this=x),
    "avg": lambda x: exp.Avg(this=x),
    "min": lambda x: exp.Min(this=x),
    "max": lambda x: exp.Max(this=x),
    "any": lambda x: exp.Min(this=x),  # any value: the least, so every engine picks the same
}
TOTAL: Mapping[str, Aggregate] = {  # a row's or column's total, from its cells
    "sum": lambda x: exp.Sum(this=x),
    "count": lambda x: exp.Sum(this=x),
    "avg": lambda x: exp.Avg(this=x),
    "min": lambda x: exp.Min(this=x),
    "max": lambda x: exp.Max(this=x),
    "any": lambda x: exp.Max(this=x),
}
ORIGINAL, GROUPED, ANCHORS, RANKED, COUNTED = (
    "original_query",
    "group_by_query",
    "anchors",
    "ranked",
    "counted",
)


def pivot_select(select: exp.Select, pivot: Pivot) -> exp.Select:
    """The pivot of the query `select` (not changed)."""
    inner = select.copy()
    with_ = inner.args.get("with")
    ctes = [(c.alias, c.this) for c in with_.expressions] if with_ is not None else []
    for arg in ("with", "order", "limit"):
        inner.set(arg, None)
    keys = [column(ref) for ref in (*pivot.index, *pivot.group_by)]
    cells = [
        exp.alias_(CELL[v.aggregation](column(v.reference)), quoted(v.column), copy=False)
        for v in pivot.values
    ]
    ctes += [
        (ORIGINAL, inner),
        (GROUPED, grouped(exp.select(*keys, *cells).from_(ORIGINAL), len(keys))),
        (ANCHORS, _anchors(pivot)),
        (RANKED, _ranked(pivot)),
        (COUNTED, _counted()),
    ]
    ctes += [(f"{kind}s", _totals(pivot, kind)) for kind in pivot.totals]
    cells_ids = pivot.output_ids[: len(pivot.output_ids) - len(pivot.total_ids)]
    final = (
        exp.select(  # aliased: ClickHouse names a qualified column `table.column`
            *(exp.alias_(column(c, COUNTED), quoted(c), copy=False) for c in cells_ids),
            *(
                exp.alias_(column(f"{v.column}_{k}", f"{k}s"), quoted(f"{v.column}_{k}"))
                for k in pivot.totals
                for v in pivot.values
            ),
        )
        .from_(COUNTED)
        .order_by(*(exp.Ordered(this=column(c, COUNTED)) for c in (ROW_INDEX, COLUMN_INDEX)))
    )
    for kind in pivot.totals:
        final = _join_totals(final, kind, pivot.total_keys(kind))
    limits = [column(COLUMN_INDEX, COUNTED) <= pivot.column_limit]
    if pivot.row_limit is not None:
        limits.insert(0, column(ROW_INDEX, COUNTED) <= pivot.row_limit)
    final = final.where(exp.and_(*limits), copy=False)
    for name, cte in ctes:
        final = final.with_(name, as_=cte, copy=False)
    return final


def _totals(pivot: Pivot, kind: str) -> exp.Select:
    """One total of `kind` per group of its keys, from the query's rows (not the cells)."""
    keys = [column(k) for k in pivot.total_keys(kind)]
    totals = [
        exp.alias_(
            CELL[v.aggregation](column(v.reference)), quoted(f"{v.column}_{kind}"), copy=False
        )
        for v in pivot.values
    ]
    return grouped(exp.select(*keys, *totals).from_(ORIGINAL), len(keys))


def _join_totals(select: exp.Select, kind: str, keys: Sequence[str]) -> exp.Select:
    """`select` joined to the totals of `kind` on its keys (NULL-safe; a grand total crosses)."""
    name = f"{kind}s"
    if not keys:
        return select.join(exp.Table(this=quoted(name)), join_type="CROSS", copy=False)
    on = exp.and_(
        *(exp.NullSafeEQ(this=column(k, COUNTED), expression=column(k, name)) for k in keys)
    )
    return select.join(exp.Table(this=quoted(name)), on=on, join_type="LEFT", copy=False)


def _anchor_name(side: str, key: PivotSortKey) -> str:
    return f"{side}_anchor_{key.reference}"


def _anchors(pivot: Pivot) -> exp.Select:
    """group_by_query plus, per value sort, its total over each row and over each column."""
    aggregation = {v.reference: v for v in pivot.values}
    items: list[exp.Expr] = [exp.Star()]
    sides = (("row", pivot.row_keys, pivot.index), ("column", pivot.column_keys, pivot.group_by))
    for side, keys, partition in sides:
        for key in keys:
            if key.is_value:
                value = aggregation[key.reference]
                total = exp.Window(
                    this=TOTAL[value.aggregation](column(value.column)),
                    partition_by=[column(p) for p in partition] or None,
                )
                items.append(exp.alias_(total, quoted(_anchor_name(side, key)), copy=False))
    return exp.select(*items).from_(GROUPED)


def _rank(side: str, keys: Sequence[PivotSortKey]) -> exp.Expr:
    """DENSE_RANK over the keys; 1 for every row when there are none (no index or group-by)."""
    if not keys:
        return exp.Literal.number(1)
    order = [
        exp.Ordered(
            this=column(_anchor_name(side, k) if k.is_value else k.reference),
            desc=k.descending,
            nulls_first=False,
        )
        for k in keys
    ]
    return exp.Window(this=exp.Anonymous(this="DENSE_RANK"), order=exp.Order(expressions=order))


def _ranked(pivot: Pivot) -> exp.Select:
    return exp.select(
        exp.Star(),
        exp.alias_(_rank("row", pivot.row_keys), quoted(ROW_INDEX), copy=False),
        exp.alias_(_rank("column", pivot.column_keys), quoted(COLUMN_INDEX), copy=False),
    ).from_(ANCHORS)


def _counted() -> exp.Select:
    return exp.select(
        exp.Star(),
        *(
            exp.alias_(exp.Window(this=exp.Max(this=column(of))), quoted(name), copy=False)
            for of, name in ((ROW_INDEX, TOTAL_ROWS), (COLUMN_INDEX, TOTAL_COLUMNS))
        ),
    ).from_(RANKED)
