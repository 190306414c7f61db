"""Pivoted queries (Lightdash's `pivotConfiguration`): what to pivot, checked once at plan time.

A pivot reads the query's own output columns: index columns make the rows, group-by columns
make the columns (one per distinct combination), value columns are re-aggregated into each
cell. The SQL is in `sql/pivot.py`; the column laid-out table and Lightdash's pivot details
are made from the result in `results/pivot.py`.

Ranking (ours, documented in the README): rows are ranked by the sorts on index columns and
on value columns (a value ranks a row by its total over the row's cells), columns by the sorts
on group-by columns and on value columns (a value ranks a column by its total over the rows);
index and group-by columns ascending break ties. The row limit (the query's `limit`, else
500) keeps the first index rows, the column limit the first column combinations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from metricql.compiler.compiled import CompiledField
from metricql.compiler.features.calculation_helpers import NO_PIVOT, PivotScope
from metricql.errors import QueryError
from metricql.query.model import PivotConfiguration
from metricql.semantic.fields import DimensionType, FieldKind

MAX_COLUMNS = 100  # Lightdash's default pivot column limit (LIGHTDASH_PIVOT_TABLE_MAX_COLUMN_LIMIT)
DEFAULT_ROW_LIMIT = 500  # Lightdash's DEFAULT_PIVOT_ROW_LIMIT
ROW_INDEX = "row_index"
COLUMN_INDEX = "column_index"
TOTAL_ROWS = "total_rows"
TOTAL_COLUMNS = "total_columns"
POSITIONS = (ROW_INDEX, COLUMN_INDEX, TOTAL_ROWS, TOTAL_COLUMNS)


@dataclass(frozen=True, slots=True)
class PivotValue:
    """A value column: the field it reads and how each cell aggregates it."""

    reference: str
    aggregation: str

    @property
    def column(self) -> str:
        """Its output column, `<reference>_<aggregation>` as Lightdash names it."""
        return f"{self.reference}_{self.aggregation}"


@dataclass(frozen=True, slots=True)
class PivotSortKey:
    """One ranking key: a reference, its direction, and whether it is a value column."""

    reference: str
    descending: bool
    is_value: bool


@dataclass(frozen=True, slots=True)
class Pivot:
    """A checked pivot: its columns, how rows and columns are ranked, and the two limits."""

    index: tuple[str, ...]
    values: tuple[PivotValue, ...]
    group_by: tuple[str, ...]
    row_keys: tuple[PivotSortKey, ...]  # ties broken by the index columns
    column_keys: tuple[PivotSortKey, ...]  # ties broken by the group-by columns
    row_limit: int | None
    column_limit: int
    config: PivotConfiguration
    totals: tuple[str, ...] = ()  # kinds of TOTAL_KEYS asked for, in TOTAL_KEYS order

    @property
    def output_ids(self) -> tuple[str, ...]:
        """Columns of the pivot SQL, in order."""
        cells = tuple(v.column for v in self.values)
        return self.index + self.group_by + cells + POSITIONS + self.total_ids

    @property
    def total_ids(self) -> tuple[str, ...]:
        """Total columns: per kind, one per value column (`<value column>_<kind>`)."""
        return tuple(f"{v.column}_{kind}" for kind in self.totals for v in self.values)

    def total_keys(self, kind: str) -> tuple[str, ...]:
        """The columns a total of `kind` is grouped by."""
        return TOTAL_KEYS[kind](self)


# Each total kind: the columns it groups the query's rows by (SPEC §6.10, TotalQueryBuilder's
# rowTotal / columnTotal / grandTotal / rowSubtotal). Totals aggregate the query's rows, as the
# cells do, so an average total is the average of those rows, not of the cells.
TOTAL_KEYS: Mapping[str, Callable[[Pivot], tuple[str, ...]]] = {
    "row_total": lambda p: p.index,
    "column_total": lambda p: p.group_by,
    "grand_total": lambda p: (),
    "subtotal": lambda p: (*p.index[:-1], *p.group_by),
    "column_subtotal": lambda p: (*p.index, *p.group_by[:-1]),
}
# Whether a kind is asked for, given the configuration and the index and group-by counts:
# subtotals group all index columns but the last, column subtotals all group-bys but the last.
_ASKED: Mapping[str, Callable[[PivotConfiguration, int, int], bool]] = {
    "row_total": lambda c, _, __: c.row_totals,
    "column_total": lambda c, _, __: c.column_totals,
    "grand_total": lambda c, _, __: c.column_totals,
    "subtotal": lambda c, rows, _: c.subtotals and rows >= 2,
    "column_subtotal": lambda c, _, columns: c.subtotals and columns >= 2,
}


def pivot_plan(
    config: PivotConfiguration | None, output_types: Mapping[str, DimensionType], limit: int | None
) -> Pivot | None:
    """The checked pivot of a query whose output columns have `output_types` (by id, in
    order); None without a configuration."""
    if config is None:
        return None
    index = tuple(c.reference for c in config.index_column)
    group_by = tuple(c.reference for c in config.group_by_columns)
    values = tuple(PivotValue(v.reference, v.aggregation) for v in config.values_columns)
    _check_columns(index, group_by, values, list(output_types))
    for value in values:
        kind = output_types[value.reference]
        if value.aggregation in _NUMERIC and kind is not DimensionType.NUMBER:
            raise _error(
                f"pivot value {value.reference!r} is a {kind.value}: it cannot be "
                f"aggregated with {value.aggregation}",
                value.reference,
            )
    if config.subtotals and len(index) < 2 and len(group_by) < 2:
        raise _error("subtotals need two index or two group-by columns", "subtotals")
    row_keys, column_keys = _keys(config, index, group_by, {v.reference for v in values})
    pivot = Pivot(
        index=index,
        values=values,
        group_by=group_by,
        row_keys=row_keys,
        column_keys=column_keys,
        row_limit=limit if limit is not None else DEFAULT_ROW_LIMIT,
        column_limit=column_limit(config, len(values)),
        config=config,
        totals=tuple(k for k, asked in _ASKED.items() if asked(config, len(index), len(group_by))),
    )
    seen: set[str] = set()
    for name in pivot.output_ids:  # a selected field named `row_index`, `x_sum_row_total` …
        if name in seen:
            raise _error(f"pivot column {name!r} would appear twice in the result", name)
        seen.add(name)
    return pivot


def pivot_fields(fields: Sequence[CompiledField], pivot: Pivot) -> tuple[CompiledField, ...]:
    """Output fields of the pivot SQL: index and group-by fields as the query has them, one
    field per value column, then the row and column positions."""
    by_id = {f.id: f for f in fields}
    cells = tuple(
        CompiledField(
            id=v.column,
            label=f"{by_id[v.reference].label} ({v.aggregation})",
            type=by_id[v.reference].type if v.aggregation in _KEEPS_TYPE else "number",
            kind=FieldKind.PIVOT,
            format=by_id[v.reference].format,
            round=by_id[v.reference].round,
        )
        for v in pivot.values
    )
    positions = tuple(
        CompiledField(id=p, label=p, type="number", kind=FieldKind.PIVOT) for p in POSITIONS
    )
    totals = tuple(
        replace(cell, id=f"{cell.id}_{kind}", label=f"{cell.label} {kind.replace('_', ' ')}")
        for kind in pivot.totals
        for cell in cells
    )
    dims = tuple(by_id[r] for r in (*pivot.index, *pivot.group_by))
    return dims + cells + positions + totals


_KEEPS_TYPE = frozenset({"min", "max", "any"})
_NUMERIC = frozenset({"sum", "avg"})  # aggregations that need numbers


def pivot_scope(config: PivotConfiguration | None, dimension_ids: Sequence[str]) -> PivotScope:
    """What row functions of table calculations partition by: the group-by columns (row()
    counts within a pivot column) and the other dimensions (row_total() sums across them)."""
    if config is None or not config.group_by_columns:
        return NO_PIVOT
    columns = tuple(c.reference for c in config.group_by_columns)
    return PivotScope(columns, tuple(d for d in dimension_ids if d not in columns))


def column_limit(config: PivotConfiguration, value_count: int) -> int:
    """Group-by combinations kept, as Lightdash's PivotQueryBuilder counts them: the column
    limit (the query's `columnLimit`, else Lightdash's default of 100, never above it) shared
    among the value columns, unless metrics are laid out as rows."""
    limit = min(config.column_limit or MAX_COLUMNS, MAX_COLUMNS)
    return limit if config.metrics_as_rows else max(1, limit // value_count)


def _check_columns(
    index: tuple[str, ...],
    group_by: tuple[str, ...],
    values: tuple[PivotValue, ...],
    output_ids: Sequence[str],
) -> None:
    if not values:
        raise _error("a pivot needs at least one values column", "valuesColumns")
    selected = set(output_ids)
    for ref in (*index, *group_by, *(v.reference for v in values)):
        if ref not in selected:
            raise _error(f"pivot column {ref!r} is not selected by the query", ref)
    seen: set[str] = set()
    for ref in (*index, *group_by):
        if ref in seen:
            raise _error(f"{ref!r} is both an index and a group-by column of the pivot", ref)
        seen.add(ref)
    names = [*index, *group_by, *POSITIONS]
    for value in values:
        if value.reference in (*index, *group_by) or value.column in names:
            raise _error(f"pivot value {value.column!r} repeats another pivot column", value.column)
        names.append(value.column)


def _keys(
    config: PivotConfiguration, index: tuple[str, ...], group_by: tuple[str, ...], values: set[str]
) -> tuple[tuple[PivotSortKey, ...], tuple[PivotSortKey, ...]]:
    rows: list[PivotSortKey] = []
    columns: list[PivotSortKey] = []
    seen: set[str] = set()
    for sort in config.sort_by:  # a field sorted twice has no one meaning: refused, not guessed
        if sort.reference in seen:
            raise _error(f"pivot sort names {sort.reference!r} twice", sort.reference)
        seen.add(sort.reference)
    for sort in config.sort_by:
        key = PivotSortKey(sort.reference, sort.direction == "DESC", sort.reference in values)
        if sort.reference in index or key.is_value:
            rows.append(key)
        if sort.reference in group_by or key.is_value:
            columns.append(key)
        if not (sort.reference in index or sort.reference in group_by or key.is_value):
            raise _error(
                f"pivot sort {sort.reference!r} is not an index, group-by or value column",
                sort.reference,
            )
    return _with_ties(rows, index), _with_ties(columns, group_by)


def _with_ties(keys: list[PivotSortKey], refs: tuple[str, ...]) -> tuple[PivotSortKey, ...]:
    """`keys`, then every ref not sorted yet, ascending: each combination gets its own rank."""
    sorted_refs = {k.reference for k in keys if not k.is_value}
    return (*keys, *(PivotSortKey(r, False, False) for r in refs if r not in sorted_refs))


def _error(message: str, field: str) -> QueryError:
    return QueryError(
        message,
        hint="pivot references are field ids the query selects (dimensions, metrics, "
        "table calculations); index and group-by columns are distinct",
        field=field,
    )
