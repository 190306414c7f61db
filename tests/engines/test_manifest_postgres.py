"""A dbt manifest for a Postgres target: fully qualified relations, types from data_type, run
through a DB-API connection on the test cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

import metricql as mq
from tests.conftest import assert_same_rows

MANIFEST = (
    Path(__file__).resolve().parent.parent / "fixtures" / "pg_manifest" / "target" / "manifest.json"
)

pytestmark = pytest.mark.engines


@pytest.fixture(scope="module")
def shop() -> mq.Project:
    return mq.load_project(MANIFEST)


def test_manifest_models_types_and_relations(shop: mq.Project) -> None:
    assert shop.dialect == "postgres"
    assert sorted(shop.explores) == ["customers", "orders"]  # the ephemeral model is skipped
    orders = shop.explore("orders")
    assert orders.dimensions["orders_order_date"].type.value == "date"  # from data_type
    assert orders.dimensions["orders_amount"].type.value == "number"
    assert orders.dimensions["customers_is_vip"].type.value == "boolean"
    sql = shop.compile(
        mq.MetricQuery(
            explore_name="orders", dimensions=["customers_country"], metrics=["orders_revenue"]
        )
    ).sql
    assert 'FROM "metricql"."main"."orders" AS "orders"' in sql
    assert 'JOIN "metricql"."main"."customers" AS "customers"' in sql


def test_manifest_project_runs_on_postgres(
    shop: mq.Project, postgres: Any, duck: duckdb.DuckDBPyConnection
) -> None:
    query = mq.MetricQuery(
        explore_name="orders",
        dimensions=["customers_is_vip", "orders_order_date_year"],
        metrics=[
            "orders_revenue",
            "orders_order_count",
            "orders_aov",
            "orders_median_amount",
            "customers_customer_count",
        ],
        limit=None,
    )
    result = shop.run(query, connection=postgres)
    want = duck.sql("""
        SELECT c.is_vip, CAST(DATE_TRUNC('year', o.order_date) AS DATE), SUM(o.amount),
               COUNT(o.order_id), SUM(o.amount) / NULLIF(COUNT(o.order_id), 0), MEDIAN(o.amount),
               COUNT(DISTINCT c.customer_id)
        FROM main.orders o LEFT JOIN main.customers c ON o.customer_id = c.customer_id
        GROUP BY 1, 2""").fetchall()
    assert_same_rows(result.rows, want, [f.id for f in result.fields])
    totals = shop.totals(query, connection=postgres)
    ((revenue,),) = duck.sql("SELECT SUM(amount) FROM main.orders").fetchall()
    assert float(totals["orders_revenue"]) == pytest.approx(revenue)


def test_dbapi_errors_carry_the_sql(shop: mq.Project, postgres: Any) -> None:
    from metricql.warehouse import dbapi

    with pytest.raises(mq.WarehouseError) as err:
        dbapi.execute(postgres, "SELECT no_such_column FROM main.orders")
    assert err.value.sql == "SELECT no_such_column FROM main.orders"
    assert dbapi.execute(postgres, "SELECT 1 AS one") == (["one"], [(1,)])  # still usable


def test_malformed_manifest(tmp_path: Path) -> None:
    bad = tmp_path / "manifest.json"
    bad.write_text('{"nodes": [}')
    with pytest.raises(mq.ProjectError, match="not valid JSON"):
        mq.load_project(bad)
