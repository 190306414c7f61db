"""What the facade needs from a database, whatever the engine: run SQL, find missing tables.

Warehouse.fetch(sql, Execution)  ─▶ Fetched: an Arrow table (engines and drivers with an
                                             Arrow path) or Python rows (plain DB-API)
Warehouse.stream(sql, Execution) ─▶ Stream:  the same, chunk by chunk, for results that
                                             should not sit in memory
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

Row = tuple[Any, ...]
TableName = tuple[str | None, str]  # (schema or None for the current schema, table)
Chunk = Any  # a pyarrow.RecordBatch, or a list of Row when the driver has no Arrow path


@dataclass(frozen=True, slots=True)
class Execution:
    """Controls of one statement: a timeout in seconds and a cap on the rows fetched."""

    timeout: float | None = None
    max_rows: int | None = None


NO_LIMITS = Execution()


@dataclass(frozen=True, slots=True)
class Fetched:
    """Every row a statement returned: `table` (pyarrow.Table) or `rows`, never both.

    `python` names, per column, the conversion that turns its Arrow values into the Python
    values the engine's DB-API fetch gives (see `warehouse.arrow.CONVERTERS`).
    """

    columns: tuple[str, ...]
    table: Any = None
    rows: Sequence[Row] | None = None
    python: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


class Stream:
    """The chunks of one result, read once; `close()` frees the cursor or pooled connection."""

    def __init__(
        self,
        columns: Sequence[str],
        chunks: Iterator[Chunk],
        close: Callable[[], None] = lambda: None,
        python: Mapping[str, str] | None = None,
    ) -> None:
        self.columns = tuple(columns)
        self.python: Mapping[str, str] = MappingProxyType(dict(python or {}))
        self._chunks = chunks
        self._close: Callable[[], None] | None = close

    def __iter__(self) -> Iterator[Chunk]:
        try:
            yield from self._chunks
        finally:
            self.close()

    def close(self) -> None:
        """Release what the stream holds; safe to call more than once."""
        close, self._close = self._close, None
        if close is not None:
            close()


@runtime_checkable
class Warehouse(Protocol):
    """A database metricql can run compiled SQL on; errors are raised as `WarehouseError`."""

    @property
    def dialect(self) -> str:
        """sqlglot dialect to compile for."""
        ...

    def execute(self, sql: str) -> tuple[list[str], list[Row]]:
        """Run one statement; return its column names and rows."""
        ...

    def fetch(self, sql: str, execution: Execution = NO_LIMITS) -> Fetched:
        """Run one query and fetch its rows (at most `execution.max_rows`)."""
        ...

    def stream(self, sql: str, execution: Execution = NO_LIMITS) -> Stream:
        """Run one query; its rows come chunk by chunk as the caller reads them."""
        ...

    def missing_tables(self, names: Sequence[TableName]) -> list[TableName]:
        """Those of `names` that do not exist (as table or view)."""
        ...

    def close(self) -> None:
        """Close what the warehouse opened itself (never a connection the caller passed)."""
        ...
