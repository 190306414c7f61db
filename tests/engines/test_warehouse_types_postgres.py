"""A DB-API connection (psycopg) types the columns YAML leaves untyped, through PostgreSQL's
information_schema; the typed fields then filter and aggregate on PostgreSQL like on DuckDB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import metricql as mq
from tests.engines.test_postgres import run_postgres
from tests.helpers import make_project
from tests.oracle.test_warehouse_types import UNTYPED, WANT_TYPES

pytestmark = pytest.mark.engines

PROFILE = """\
demo:
  target: dev
  outputs:
    dev: {type: postgres, schema: main, dbname: metricql}
"""


def test_psycopg_connection_types_untyped_columns(tmp_path: Path, postgres: Any) -> None:
    root = make_project(tmp_path / "shop", {"orders": UNTYPED}, profiles=PROFILE)
    untyped = mq.load_project(root).explore("orders").dimensions
    assert {untyped[i].type for i in WANT_TYPES} == {mq.DimensionType.STRING}
    project = mq.load_project(root, connection=postgres)
    dims = project.explore("orders").dimensions
    assert {i: dims[i].type for i in WANT_TYPES} == WANT_TYPES
    query = mq.MetricQuery(
        explore_name="orders",
        dimensions=["orders_is_gift"],
        metrics=["orders_order_count"],
        filters={"dimensions": {"id": "f", "and": [
            {"id": "a", "target": {"fieldId": "orders_amount"}, "operator": "greaterThan",
             "values": [100]},
            {"id": "b", "target": {"fieldId": "orders_is_gift"}, "operator": "equals",
             "values": [False]},
        ]}},
    )  # fmt: skip
    got = run_postgres(postgres, project.compile(query))  # the profile's dialect: postgres
    with postgres.cursor() as cursor:
        cursor.execute(
            "SELECT is_gift, COUNT(DISTINCT order_id) FROM main.orders "
            "WHERE amount > 100 AND is_gift = FALSE GROUP BY is_gift"
        )
        want = cursor.fetchall()
    assert [(r["orders_is_gift"], r["orders_order_count"]) for r in got.rows] == want
    assert want and want[0][1] > 10
