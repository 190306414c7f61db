"""Golden SQL per dialect: each file is today's compile output, and parses in its dialect.

A failure here means the SQL for some warehouse changed: if that was intended, run
`python -m tests.golden.regen` and review the diff of the files it rewrote.
"""

from __future__ import annotations

import pytest
import sqlglot

import metricql as mq
from tests.golden.regen import DIALECTS, GOLDEN, NAMES, compiled, golden_path, golden_text

CASES = [(dialect, name) for dialect in DIALECTS for name in NAMES]
REGEN = "run `python -m tests.golden.regen` and review the diff"


@pytest.mark.parametrize(("dialect", "name"), CASES)
def test_golden_is_current_compile_output(project: mq.Project, dialect: str, name: str) -> None:
    query = compiled(project, name, dialect)
    path = golden_path(dialect, name)
    assert path.exists(), f"{path} is missing: {REGEN}"
    assert path.read_text() == golden_text(query), f"{dialect} SQL of {name} changed: {REGEN}"
    # The golden is the pretty form of exactly what compile returns.
    assert query.tree.sql(dialect=dialect) == query.sql


@pytest.mark.parametrize(("dialect", "name"), CASES)
def test_golden_parses_in_its_dialect(dialect: str, name: str) -> None:
    text = golden_path(dialect, name).read_text()
    tree = sqlglot.parse_one(text, read=dialect)
    assert isinstance(tree, (sqlglot.exp.Select, sqlglot.exp.Union)), type(tree)
    # sqlglot reads it back as the same query (it may change keyword case: `epoch` → `EPOCH`).
    again = tree.sql(dialect=dialect, pretty=True) + "\n"
    assert again.upper() == text.upper(), f"{dialect} re-reads {name} differently:\n{again}"


def test_no_stale_goldens() -> None:
    expected = {golden_path(d, n) for d, n in CASES}
    found = {p for d in DIALECTS for p in (GOLDEN / d).glob("*")}
    assert found <= expected, f"files no query produces: {sorted(found - expected)}: {REGEN}"
    assert {p.name for p in GOLDEN.iterdir() if p.is_dir() and p.name != "__pycache__"} <= set(
        DIALECTS
    ), f"a folder for a dialect no longer generated: {REGEN}"
