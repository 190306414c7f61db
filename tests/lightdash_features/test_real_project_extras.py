"""The rest of what real projects use (issue 10, item 10): explore-level additional dimensions,
a query selecting nothing, a custom SQL dimension that does not parse."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import metricql as mq
from tests.conftest import assert_same_rows
from tests.helpers import make_project


def test_explore_additional_dimension_lives_in_its_explore_only(
    features: mq.Project, fduck: duckdb.DuckDBPyConnection
) -> None:
    assert "orders_amount_band" in features.explore("large_orders").dimensions
    assert "orders_amount_band" not in features.explore("orders").dimensions
    query = mq.MetricQuery(
        explore_name="large_orders",
        dimensions=["orders_amount_band"],
        metrics=["orders_order_count"],
    )
    want = fduck.sql(
        "SELECT CASE WHEN amount >= 20 THEN 'big' ELSE 'medium' END, COUNT(DISTINCT order_id) "
        "FROM main.orders WHERE amount >= 10 AND status NOT IN ('placed', 'returned') GROUP BY 1"
    ).fetchall()
    got = features.run(query, connection=fduck).rows
    assert_same_rows(got, want, ["orders_amount_band", "orders_order_count"])
    with pytest.raises(mq.UnknownFieldError):
        features.compile(query.model_copy(update={"explore_name": "orders"}))


NO_SQL = """
models:
  - name: t
    meta:
      explores:
        t_extra:
          additional_dimensions:
            band: {type: string}
            twice: {type: number, sql: "${t.x} * 2"}
    columns:
      - name: x
        meta: {dimension: {type: number}}
"""


def test_explore_additional_dimension_without_sql_is_its_own_error(tmp_path: Path) -> None:
    project = mq.load_project(make_project(tmp_path, {"models": NO_SQL}))
    extra = project.explore("t_extra")
    assert "t_twice" in extra.dimensions and "t_band" not in extra.dimensions
    (error,) = extra.errors
    assert "has no sql" in error.message and error.context["line"] == 8
    assert project.explore("t").errors == ()


def test_a_query_selecting_nothing_is_a_query_error(features: mq.Project) -> None:
    with pytest.raises(mq.QueryError, match="selects no dimension and no metric"):
        features.compile(mq.MetricQuery(explore_name="orders"))


def test_unparseable_custom_sql_dimension_names_its_id(features: mq.Project) -> None:
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "dimensions": ["my_bucket"],
            "customDimensions": [
                {"id": "my_bucket", "name": "Bucket", "table": "orders", "type": "sql",
                 "sql": "${orders.amount} +* (", "dimensionType": "number"}
            ],
        }
    )  # fmt: skip
    with pytest.raises(mq.QueryError) as err:
        features.compile(query)
    assert err.value.message.startswith("'my_bucket': SQL does not parse")
    assert err.value.context["field"] == "my_bucket"
