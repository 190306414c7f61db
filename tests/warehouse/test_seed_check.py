"""The DuckDB target's seed check: asked once per opened warehouse, not on every run."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

import metricql as mq
from metricql.warehouse import duckdb as duckwh
from tests.conftest import SAMPLE

QUERY = mq.MetricQuery(explore_name="orders", metrics=["orders_order_count"])


@pytest.fixture()
def counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[mq.Project, list[int]]:
    """A copy of the sample project (its DuckDB file in tmp_path) counting catalog checks."""
    root = tmp_path / "jaffle_shop"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("*.duckdb*", "target"))
    checks: list[int] = []
    real = duckwh.missing_tables

    def missing(*args: Any) -> Any:
        checks.append(1)
        return real(*args)

    monkeypatch.setattr(duckwh, "missing_tables", missing)
    return mq.load_project(root), checks


def test_runs_check_the_seeds_once_per_warehouse(counted: tuple[mq.Project, list[int]]) -> None:
    project, checks = counted
    with project:
        first = project.run(QUERY).rows  # loads the seeds into the fresh database
        for _ in range(5):
            assert project.run(QUERY).rows == first
        assert len(checks) == 1
        assert first[0]["orders_order_count"] > 0


def test_seed_and_close_make_the_next_run_check_again(
    counted: tuple[mq.Project, list[int]],
) -> None:
    project, checks = counted
    project.run(QUERY)
    project.seed()
    project.run(QUERY)
    project.run(QUERY)
    assert len(checks) == 2
    project.close()
    project.run(QUERY)
    assert len(checks) == 3
    project.close()


def test_a_dropped_seed_table_is_reloaded_after_reopening(
    counted: tuple[mq.Project, list[int]],
) -> None:
    project, _ = counted
    expected = project.run(QUERY).rows
    project.warehouse.execute("DROP TABLE main.orders")
    project.close()
    assert project.run(QUERY).rows == expected
    project.close()
