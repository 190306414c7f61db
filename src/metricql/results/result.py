"""The rows a metric query returned, with the metadata of each output field.

A result holds what the warehouse gave: a pyarrow Table (DuckDB, Spark, Arrow-capable
drivers), Python rows (plain DB-API drivers), or a not-yet-read stream of either. Dict rows
are made on first access of `rows`; `to_arrow()` of an Arrow result shares its buffers.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType, ModuleType
from typing import Any

from metricql.compiler.compiled import CompiledField, CompiledQuery
from metricql.errors import MissingDependencyError, ResultConsumedError, WarehouseError
from metricql.results.csv import csv_chunks
from metricql.results.values import json_value, text_value
from metricql.warehouse.arrow import pyarrow_module, python_columns
from metricql.warehouse.base import Fetched, Row, Stream

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
_ROWS_PER_BATCH = 65_536  # when record batches are made from Python rows


class QueryResult:
    """Rows keyed by field id (Python values: int, float, Decimal, str, bool, date, datetime,
    None), the output fields in column order, and the SQL that produced them."""

    __slots__ = (
        "__weakref__",
        "_lock",
        "_python",
        "_rows",
        "_stream",
        "_table",
        "_tuples",
        "dialect",
        "fields",
        "sql",
        "warnings",
    )

    def __init__(
        self,
        fields: Sequence[CompiledField],
        rows: Sequence[Mapping[str, Any]] | None = None,
        sql: str = "",
        dialect: str = "",
        warnings: Sequence[str] = (),
        *,
        table: Any = None,
        tuples: Sequence[Row] | None = None,
        stream: Stream | None = None,
        python: Mapping[str, str] | None = None,
    ) -> None:
        self.fields = tuple(fields)
        self.sql = sql
        self.dialect = dialect
        self.warnings = tuple(warnings)
        self._rows: list[dict[str, Any]] | None = None if rows is None else [dict(r) for r in rows]
        self._tuples = None if tuples is None else list(tuples)
        self._table = table
        self._stream = stream
        self._python: Mapping[str, str] = MappingProxyType(dict(python or {}))
        self._lock = threading.RLock()
        if rows is None and tuples is None and table is None and stream is None:
            self._rows = []

    @classmethod
    def from_rows(
        cls, compiled: CompiledQuery, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> QueryResult:
        """Key warehouse rows by the compiled field ids, checking the columns are those fields.

        Column names match ignoring case (some warehouses upper-case them).
        """
        _check_columns(compiled, columns)
        return cls(**_meta(compiled), tuples=[tuple(r) for r in rows])

    @classmethod
    def from_fetched(cls, compiled: CompiledQuery, fetched: Fetched) -> QueryResult:
        """A result over what a warehouse fetched: its Arrow table as is, or its rows."""
        _check_columns(compiled, fetched.columns)
        if fetched.table is None:
            return cls(**_meta(compiled), tuples=fetched.rows or [])
        table = fetched.table.rename_columns(list(compiled.field_ids))  # zero-copy
        return cls(**_meta(compiled), table=table, python=_by_id(compiled, fetched.python))

    @classmethod
    def from_stream(cls, compiled: CompiledQuery, stream: Stream) -> QueryResult:
        """A result whose rows are read from `stream` when first asked for."""
        try:
            _check_columns(compiled, stream.columns)
        except WarehouseError:
            stream.close()
            raise
        result = cls(**_meta(compiled), stream=stream, python=_by_id(compiled, stream.python))
        # A stream nobody reads to the end or closes would keep its pooled connection lent
        # out for good: give it back when the result is garbage collected.
        weakref.finalize(result, stream.close)
        return result

    @property
    def columns(self) -> tuple[str, ...]:
        """Field ids in column order."""
        return tuple(f.id for f in self.fields)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """Every row as a dict keyed by field id, made on first access."""
        with self._lock:
            if self._rows is None:
                self._materialise()
                self._rows = self._dict_rows()
            return self._rows

    @property
    def num_rows(self) -> int:
        """Number of rows (reads a streamed result in full)."""
        with self._lock:
            self._materialise()
            if self._table is not None:
                return int(self._table.num_rows)
            return len(self._tuples if self._tuples is not None else self.rows)

    def __len__(self) -> int:
        return self.num_rows

    def __repr__(self) -> str:
        state = "streamed" if self._stream is not None else f"{self.num_rows} rows"
        return f"QueryResult(columns={list(self.columns)!r}, {state}, dialect={self.dialect!r})"

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

        An Arrow result shares the warehouse's buffers (no copy). A result of Python rows
        infers types from the values; a column of only NULLs gets its type from the field
        type, and a column whose values mix types is stored as text.
        """
        pa = pyarrow_module("QueryResult.to_arrow")
        with self._lock:
            self._materialise()
            if self._table is not None:
                return _with_metadata(pa, self._table, self.fields)
            return _arrow_from_rows(pa, self.fields, self._row_tuples())

    def to_pandas(self) -> Any:
        """A pandas DataFrame of the rows (through Arrow); needs pandas and pyarrow."""
        _optional("pandas", "QueryResult.to_pandas")
        return self.to_arrow().to_pandas()

    def to_polars(self) -> Any:
        """A polars DataFrame of the rows (zero-copy from Arrow); needs polars and pyarrow."""
        polars = _optional("polars", "QueryResult.to_polars")
        return polars.from_arrow(self.to_arrow())

    def batches(self) -> Iterator[Any]:
        """The rows as pyarrow RecordBatches; a streamed result is read (once) as it goes."""
        pa = pyarrow_module("QueryResult.batches")
        for chunk in self._chunks():
            if isinstance(chunk, list):
                yield _arrow_from_rows(pa, self.fields, chunk).combine_chunks().to_batches()[0]
            else:
                yield _with_metadata(pa, chunk, self.fields)

    def iter_rows(self) -> Iterator[dict[str, Any]]:
        """Rows as dicts keyed by field id, one chunk in memory at a time for a streamed result."""
        ids = self.columns
        for chunk in self._chunks():
            for row in self._chunk_tuples(chunk):
                yield dict(zip(ids, row, strict=True))

    def csv_chunks(self) -> Iterator[str]:
        """CSV text (header first) chunk by chunk; a streamed result is read as it goes."""
        tuples = (self._chunk_tuples(chunk) for chunk in self._chunks())
        return csv_chunks(self.columns, tuples)

    def close(self) -> None:
        """Release an unread stream's cursor or connection; the result keeps what it read."""
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()

    def __enter__(self) -> QueryResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals -----------------------------------------------------------------------

    def _materialise(self) -> None:
        """Read an unread stream in full (caller holds the lock)."""
        if self._stream is None:
            if self._table is None and self._tuples is None and self._rows is None:
                raise ResultConsumedError(
                    "this streamed result was already read through batches() or csv_chunks()",
                    hint="run the query again, or call to_arrow() before reading it in chunks",
                )
            return
        stream, self._stream = self._stream, None
        chunks = list(stream)
        if chunks and not isinstance(chunks[0], list):
            self._table = _table_of(chunks, self.columns)
        else:
            self._tuples = [row for chunk in chunks for row in chunk]

    def _chunks(self) -> Iterator[Any]:
        """Chunks of a stream being read now, else of the materialised rows or table."""
        with self._lock:
            stream, self._stream = self._stream, None
            if stream is None:
                self._materialise()
        if stream is not None:
            yield from stream
        elif self._table is not None:
            yield from self._table.to_batches(_ROWS_PER_BATCH)
        else:
            tuples = self._row_tuples()
            for start in range(0, len(tuples), _ROWS_PER_BATCH):
                yield tuples[start : start + _ROWS_PER_BATCH]

    def _chunk_tuples(self, chunk: Any) -> Sequence[Row]:
        if isinstance(chunk, list):
            return chunk
        return list(zip(*python_columns(chunk, self._conversions()), strict=True))

    def _conversions(self) -> list[str]:
        return [self._python.get(c, "plain") for c in self.columns]

    def _row_tuples(self) -> list[Row]:
        if self._tuples is not None:
            return self._tuples
        if self._table is not None:
            return list(zip(*python_columns(self._table, self._conversions()), strict=True))
        rows = self._rows or []
        return [tuple(row.get(c) for c in self.columns) for row in rows]

    def _dict_rows(self) -> list[dict[str, Any]]:
        ids = self.columns
        if self._table is None:
            return [dict(zip(ids, row, strict=True)) for row in self._row_tuples()]
        # Column by column into empty dicts: about twice as fast as a dict(zip()) per row.
        rows: list[dict[str, Any]] = [{} for _ in range(self._table.num_rows)]
        for key, values in zip(ids, python_columns(self._table, self._conversions()), strict=True):
            for row, value in zip(rows, values, strict=True):
                row[key] = value
        return rows


def _meta(compiled: CompiledQuery) -> dict[str, Any]:
    return {
        "fields": compiled.fields,
        "sql": compiled.sql,
        "dialect": compiled.dialect,
        "warnings": compiled.warnings,
    }


def _check_columns(compiled: CompiledQuery, columns: Sequence[str]) -> None:
    ids = compiled.field_ids
    if [c.lower() for c in columns] != [i.lower() for i in ids]:
        raise WarehouseError(
            f"the warehouse returned columns {list(columns)} but the query has fields {list(ids)}",
            hint="the SQL must select exactly the query's fields, in order; if metricql "
            "generated it, please report it with the SQL",
            sql=compiled.sql,
        )


def _by_id(compiled: CompiledQuery, python: Mapping[str, str]) -> dict[str, str]:
    """Per-column conversions keyed by field id instead of the warehouse's column name."""
    lowered = {name.lower(): how for name, how in python.items()}
    return {i: lowered[i.lower()] for i in compiled.field_ids if i.lower() in lowered}


def _table_of(batches: list[Any], columns: Sequence[str]) -> Any:
    pa = pyarrow_module("reading a streamed result")
    table = pa.Table.from_batches(batches)
    return table.rename_columns(list(columns))


def _with_metadata(pa: ModuleType, data: Any, fields: Sequence[CompiledField]) -> Any:
    """`data` (Table or RecordBatch) under field ids, with labels in the metadata; no copy."""
    schema = pa.schema(
        [
            pa.field(f.id, column.type, metadata=_arrow_metadata(f))
            for f, column in zip(fields, data.columns, strict=True)
        ]
    )
    build = pa.Table.from_arrays if isinstance(data, pa.Table) else pa.RecordBatch.from_arrays
    return build(data.columns, schema=schema)


def _arrow_from_rows(pa: ModuleType, fields: Sequence[CompiledField], rows: Sequence[Row]) -> Any:
    arrays = [_arrow_array(pa, [row[i] for row in rows], f) for i, f in enumerate(fields)]
    schema = pa.schema(
        [
            pa.field(f.id, array.type, metadata=_arrow_metadata(f))
            for f, array in zip(fields, arrays, strict=True)
        ]
    )
    return pa.Table.from_arrays(arrays, schema=schema)


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


def _optional(module: str, feature: str) -> ModuleType:
    try:
        imported: ModuleType = __import__(module)
    except ImportError:
        raise MissingDependencyError(
            f"{feature} needs {module}, which is not installed",
            hint=f"pip install metricql[{module}]",
        ) from None
    return imported
