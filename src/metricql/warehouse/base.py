"""What the facade needs from a database, whatever the engine: run SQL, find missing tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

Row = tuple[Any, ...]
TableName = tuple[str | None, str]  # (schema or None for the current schema, table)


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

    def missing_tables(self, names: Sequence[TableName]) -> list[TableName]:
        """Those of `names` that do not exist (as table or view)."""
        ...
