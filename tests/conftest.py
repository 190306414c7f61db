"""Shared fixtures: the sample project, a DuckDB loaded with its seeds, row comparison."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

import metricql as mq

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_projects" / "jaffle_shop"


@pytest.fixture(scope="session")
def project() -> mq.Project:
    return mq.load_project(SAMPLE)


@pytest.fixture(scope="session")
def duck(project: mq.Project) -> duckdb.DuckDBPyConnection:
    """In-memory DuckDB holding the sample seeds in schema `main` (the profile's schema)."""
    conn = duckdb.connect()
    project.seed(connection=conn)
    return conn


def _norm(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return value
    return value


def _approx_row(row: Sequence[Any]) -> tuple[Any, ...]:
    out = []
    for v in row:
        v = _norm(v)
        out.append(round(v, 6) if isinstance(v, float) else v)
    return tuple(out)


def assert_same_rows(
    got: list[dict[str, Any]],
    want: Sequence[Sequence[Any]],
    columns: Sequence[str],
    *,
    ordered: bool = False,
) -> None:
    """Compare result rows (dicts by field id) with hand-written SQL rows (tuples)."""
    got_rows = [_approx_row([r[c] for c in columns]) for r in got]
    want_rows = [_approx_row(r) for r in want]
    assert len(got_rows) == len(want_rows), f"{len(got_rows)} rows, expected {len(want_rows)}"
    if ordered:
        for i, (g, w) in enumerate(zip(got_rows, want_rows, strict=True)):
            assert g == pytest.approx(w, rel=1e-9, abs=1e-9) if _numeric(g, w) else g == w, (
                f"row {i}: {g} != {w}"
            )
    else:
        assert Counter(got_rows) == Counter(want_rows), _diff(got_rows, want_rows)
    assert got_rows, "the oracle compared no rows: pick a query that returns data"


def _numeric(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (*a, *b))


def _diff(got: list[tuple[Any, ...]], want: list[tuple[Any, ...]]) -> str:
    g, w = Counter(got), Counter(want)
    extra, missing = list((g - w).elements())[:5], list((w - g).elements())[:5]
    return f"only in result: {extra}; only expected: {missing}"
