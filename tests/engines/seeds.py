"""The sample seeds as DuckDB reads them, for loading into other engines; missing engines.

Every engine gets the rows DuckDB parsed (not its own CSV reader), so all hold the same
values: same NULLs, same types. A seed column of a DuckDB type an engine's map lacks fails
loudly. Missing engine packages or runtimes skip locally and fail under CI (CI=true).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import duckdb
import pytest

from tests.conftest import SAMPLE

SCHEMA = "main"  # the sample profile's schema: compiled SQL reads `main.orders`
SOURCE = "SELECT * FROM read_csv(?, header = true)"  # as project.seed() reads a seed

T = TypeVar("T")


@dataclass(frozen=True)
class Column:
    name: str
    duck_type: str  # BIGINT, DOUBLE, DATE, TIMESTAMP, BOOLEAN, VARCHAR …
    has_nulls: bool


@dataclass(frozen=True)
class Seed:
    """One seed table: its columns as DuckDB's CSV sniffer types them, and its rows."""

    name: str
    path: Path
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]


def seeds() -> tuple[Seed, ...]:
    """Every `seeds/*.csv` of the sample project, read like `project.seed()` reads it."""
    reader = duckdb.connect()
    out = []
    for path in sorted((SAMPLE / "seeds").glob("*.csv")):
        described = reader.execute(f"DESCRIBE {SOURCE}", [str(path)]).fetchall()
        rows = tuple(reader.execute(SOURCE, [str(path)]).fetchall())
        columns = tuple(
            Column(str(name), str(kind), any(row[i] is None for row in rows))
            for i, (name, kind, *_) in enumerate(described)
        )
        out.append(Seed(path.stem, path, columns, rows))
    reader.close()
    return tuple(out)


def engine_type(types: Mapping[str, T], seed: Seed, column: Column, engine: str) -> T:
    """The engine's type for a seed column's DuckDB type; an unmapped one fails loudly."""
    if column.duck_type not in types:
        pytest.fail(
            f"seed {seed.path.name} column {column.name!r} has DuckDB type {column.duck_type}, "
            f"which the {engine} engine fixture does not map: add it to its type map",
            pytrace=False,
        )
    return types[column.duck_type]


def unavailable(engine: str, reason: str) -> NoReturn:
    """Fail under CI (CI=true), where every engine must run; skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{engine} engine tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"{engine} engine tests skipped: {reason}")
