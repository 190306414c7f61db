"""A pivoted result laid out: Lightdash's pivot details, and the table with one column per
pivot value (index columns, then for each column combination in rank order, each value).

The pivot SQL returns one row per cell (`compiler/sql/pivot.py`); this module only arranges
those cells, it never aggregates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from metricql.compiler.features.pivots import (
    COLUMN_INDEX,
    ROW_INDEX,
    TOTAL_COLUMNS,
    TOTAL_ROWS,
    Pivot,
    PivotValue,
)
from metricql.results.values import json_value


@dataclass(frozen=True, slots=True)
class PivotColumnName:
    """One laid-out column: a value column at one group-by combination."""

    name: str
    value: PivotValue
    column_index: int
    group_values: tuple[Any, ...]


def column_names(pivot: Pivot, rows: Sequence[Mapping[str, Any]]) -> list[PivotColumnName]:
    """Laid-out value columns in order: by column rank, then value column."""
    combos: dict[int, tuple[Any, ...]] = {}
    for row in rows:
        combos.setdefault(row[COLUMN_INDEX], tuple(row[g] for g in pivot.group_by))
    out: list[PivotColumnName] = []
    taken = set(pivot.index)
    for index in sorted(combos):
        for value in pivot.values:
            parts = [value.column, *("null" if v is None else str(v) for v in combos[index])]
            name = "_".join(parts)
            if name in taken:  # two combinations that print alike stay apart
                name = f"{name}__{index}"
            taken.add(name)
            out.append(PivotColumnName(name, value, index, combos[index]))
    return out


def pivot_details(pivot: Pivot, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Lightdash's `pivotDetails`: what a client needs to lay out the cells."""
    config = pivot.config
    first = rows[0] if rows else {}
    return {
        "totalColumnCount": first.get(TOTAL_COLUMNS, 0),
        "totalRowCount": first.get(TOTAL_ROWS, 0),  # metricql: index rows before the limit
        "indexColumn": [c.model_dump(exclude_none=True) for c in config.index_column],
        "valuesColumns": [
            {
                "referenceField": c.value.reference,
                "pivotColumnName": c.name,
                "aggregation": c.value.aggregation,
                "pivotValues": [
                    {"referenceField": g, "value": json_value(v)}
                    for g, v in zip(pivot.group_by, c.group_values, strict=True)
                ],
                "columnIndex": c.column_index,
            }
            for c in column_names(pivot, rows)
        ],
        "groupByColumns": [{"reference": g} for g in pivot.group_by],
        "sortBy": [s.model_dump() for s in config.sort_by],
    }


def pivot_columns(pivot: Pivot, rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """The laid-out table as columns: index columns, one column per pivot value, then the
    row totals when asked for. With metricsAsRows: one row per index row and value column
    (named in `metric`), one column per group-by combination."""
    if pivot.config.metrics_as_rows:
        return _metrics_as_rows(pivot, rows)
    names = column_names(pivot, rows)
    row_totals = [f"{v.column}_row_total" for v in pivot.values if "row_total" in pivot.totals]
    by_row: dict[int, dict[str, Any]] = {}
    for row in rows:
        keep = (*pivot.index, *row_totals)
        laid = by_row.setdefault(row[ROW_INDEX], {i: row[i] for i in keep})
        for name in names:
            if name.column_index == row[COLUMN_INDEX]:
                laid[name.name] = row[name.value.column]
    ordered = [by_row[r] for r in sorted(by_row)]
    ids = [*pivot.index, *(n.name for n in names), *row_totals]
    return {i: [laid.get(i) for laid in ordered] for i in ids}


METRIC = "metric"  # the column naming each row's value column when metrics are rows


def _metrics_as_rows(pivot: Pivot, rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    combos: dict[int, str] = {}
    taken = {*pivot.index, METRIC}
    for row in rows:
        if row[COLUMN_INDEX] not in combos:
            parts = ["null" if row[g] is None else str(row[g]) for g in pivot.group_by]
            name = "_".join(parts) or "value"
            name = f"{name}__{row[COLUMN_INDEX]}" if name in taken else name
            taken.add(name)
            combos[row[COLUMN_INDEX]] = name
    laid: dict[tuple[int, int], dict[str, Any]] = {}
    for row in rows:
        for at, value in enumerate(pivot.values):
            line = laid.setdefault(
                (row[ROW_INDEX], at), {**{i: row[i] for i in pivot.index}, METRIC: value.column}
            )
            line[combos[row[COLUMN_INDEX]]] = row[value.column]
    ordered = [laid[k] for k in sorted(laid)]
    ids = [*pivot.index, METRIC, *(combos[c] for c in sorted(combos))]
    return {i: [line.get(i) for line in ordered] for i in ids}
