"""The rows a metric query returned, with the metadata of each output field."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from metricql.compiler.compiled import CompiledField, CompiledQuery
from metricql.errors import MissingDependencyError, WarehouseError
from metricql.results.values import json_value, text_value

__all__ = ["MissingDependencyError", "QueryResult"]

# Arrow type of a column with no values to infer from, by field type; others get `null`.
_ARROW_TYPES: dict[str, Callable[[ModuleType], Any]] = {
    "string": lambda pa: pa.string(),
    "number": lambda pa: pa.float64(),
    "date": lambda pa: pa.date32(),
    "timestamp": lambda pa: pa.timestamp("us"),
    "boolean": lambda pa: pa.bool_(),
    "count": lambda pa: pa.int64(),
    "count_distinct": lambda pa: pa.int64(),
    "sum": lambda pa: pa.float64(),
    "average": lambda pa: pa.float64(),
}


@dataclass(frozen=True, slots=True)
class QueryResult:
    """Rows keyed by field id (Python values: int, float, Decimal, str, bool, date, datetime,
    None), the output fields in column order, and the SQL that produced them."""

    fields: tuple[CompiledField, ...]
    rows: list[dict[str, Any]]
    sql: str
    dialect: str
    warnings: tuple[str, ...] = ()

    @classmethod
    def from_rows(
        cls, compiled: CompiledQuery, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> QueryResult:
        """Key warehouse rows by the compiled field ids, checking the columns are those fields.

        Column names match ignoring case (some warehouses upper-case them).
        """
        ids = compiled.field_ids
        if [c.lower() for c in columns] != [i.lower() for i in ids]:
            raise WarehouseError(
                f"the warehouse returned columns {list(columns)} but the query has fields "
                f"{list(ids)}",
                hint="the SQL must select exactly the query's fields, in order; if metricql "
                "generated it, please report it with the SQL",
                sql=compiled.sql,
            )
        return cls(
            fields=compiled.fields,
            rows=[dict(zip(ids, row, strict=True)) for row in rows],
            sql=compiled.sql,
            dialect=compiled.dialect,
            warnings=compiled.warnings,
        )

    @property
    def columns(self) -> tuple[str, ...]:
        """Field ids in column order."""
        return tuple(f.id for f in self.fields)

    def to_dict(self) -> dict[str, Any]:
        """`{"fields": [...], "rows": [...]}` with JSON-ready values.

        Dates and timestamps become ISO 8601 strings, `Decimal` a JSON number (float), NaN and
        ±Infinity null; see `metricql.results.values`.
        """
        columns = self.columns
        return {
            "fields": [f.to_dict() for f in self.fields],
            "rows": [{c: json_value(row.get(c)) for c in columns} for row in self.rows],
        }

    def to_arrow(self) -> Any:
        """A `pyarrow.Table`: one column per field, labels and types in the field metadata.

        Types are inferred from the values; a column of only NULLs gets its type from the
        field type, and a column whose values mix types is stored as text.
        """
        pa = _pyarrow()
        arrays = [_arrow_array(pa, [row.get(f.id) for row in self.rows], f) for f in self.fields]
        schema = pa.schema(
            [
                pa.field(f.id, array.type, metadata=_arrow_metadata(f))
                for f, array in zip(self.fields, arrays, strict=True)
            ]
        )
        return pa.Table.from_arrays(arrays, schema=schema)


def _pyarrow() -> ModuleType:
    try:
        import pyarrow
    except ImportError:
        raise MissingDependencyError(
            "QueryResult.to_arrow needs pyarrow, which is not installed",
            hint="pip install metricql[arrow]",
        ) from None
    module: ModuleType = pyarrow
    return module


def _arrow_array(pa: ModuleType, values: list[Any], field: CompiledField) -> Any:
    if all(v is None for v in values):
        build = _ARROW_TYPES.get(field.type)
        return pa.nulls(len(values), type=build(pa) if build else pa.null())
    try:
        return pa.array(values)
    except pa.ArrowException:  # mixed Python types (e.g. a JSON column): keep them as text
        return pa.array([None if v is None else text_value(v) for v in values], pa.string())


def _arrow_metadata(field: CompiledField) -> dict[str, str]:
    meta = {"label": field.label, "type": field.type, "kind": field.kind.value}
    if field.table is not None:
        meta["table"] = field.table
    return meta
