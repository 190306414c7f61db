"""`case_sensitive: false` on a model folds case in every filter on its string fields.

One resolution (field → table → explore → default true) for query filters, a metric's YAML
`filters:` and the explore's `required_filters`; two sample customers say "germany".
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import metricql as mq
from tests.conftest import assert_same_rows
from tests.helpers import make_project

MODELS = """
models:
  - name: customers
    meta: {{case_sensitive: {customers}}}
    columns:
      - name: customer_id
        meta: {{dimension: {{type: number}}}}
      - name: country
        meta: {{dimension: {{type: string}}}}
  - name: orders
    meta:
      case_sensitive: {orders}
      joins:
        - join: customers
          sql_on: ${{orders.customer_id}} = ${{customers.customer_id}}
          relationship: many-to-one
      explores:
        german_orders:
          required_filters:
            - customers.country: Germany
    columns:
      - name: order_id
        meta:
          dimension: {{type: number}}
          metrics:
            order_count: {{type: count}}
            german_orders:
              type: count
              filters:
                - customers.country: Germany
      - name: customer_id
        meta: {{dimension: {{type: number}}}}
      - name: status
        meta: {{dimension: {{type: string}}}}
"""

# Where `case_sensitive: false` is set: on the filtered field's model, or on the explore's base.
LEVELS = {
    "table": {"customers": "false", "orders": "null"},
    "explore": {"customers": "null", "orders": "false"},
}

GERMAN = "UPPER(c.country) = 'GERMANY'"
JOINED = "FROM main.orders o LEFT JOIN main.customers c ON o.customer_id = c.customer_id"


@pytest.fixture(scope="module", params=sorted(LEVELS))
def folded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> mq.Project:
    root: Path = tmp_path_factory.mktemp(f"case_{request.param}")
    return mq.load_project(make_project(root, {"models": MODELS.format(**LEVELS[request.param])}))


def _run(project: mq.Project, duck: duckdb.DuckDBPyConnection, **kw: object) -> mq.QueryResult:
    query = mq.MetricQuery(dimensions=["orders_status"], limit=None, **kw)  # type: ignore[arg-type]
    return project.run(query, connection=duck)


def test_sample_has_lower_case_rows(duck: duckdb.DuckDBPyConnection) -> None:
    """The oracles below would pass without folding if no order had a "germany" customer."""
    rows = duck.sql(f"SELECT COUNT(*) {JOINED} WHERE c.country = 'germany'").fetchall()
    assert rows[0][0] > 0


def test_query_filter_folds_case(folded: mq.Project, duck: duckdb.DuckDBPyConnection) -> None:
    where = {"id": "g", "and": [{"id": "r", "target": {"fieldId": "customers_country"},
                                 "operator": "equals", "values": ["Germany"]}]}  # fmt: skip
    result = _run(
        folded,
        duck,
        explore_name="orders",
        metrics=["orders_order_count"],
        filters={"dimensions": where},
    )
    want = duck.sql(f"SELECT o.status, COUNT(o.order_id) {JOINED} WHERE {GERMAN} GROUP BY 1")
    assert_same_rows(result.rows, want.fetchall(), ["orders_status", "orders_order_count"])


def test_metric_yaml_filter_folds_case(folded: mq.Project, duck: duckdb.DuckDBPyConnection) -> None:
    result = _run(folded, duck, explore_name="orders", metrics=["orders_german_orders"])
    want = duck.sql(
        f"SELECT o.status, COUNT(CASE WHEN {GERMAN} THEN o.order_id END) {JOINED} GROUP BY 1"
    )
    assert_same_rows(result.rows, want.fetchall(), ["orders_status", "orders_german_orders"])


def test_required_filter_folds_case(folded: mq.Project, duck: duckdb.DuckDBPyConnection) -> None:
    result = _run(folded, duck, explore_name="german_orders", metrics=["orders_order_count"])
    want = duck.sql(f"SELECT o.status, COUNT(o.order_id) {JOINED} WHERE {GERMAN} GROUP BY 1")
    assert_same_rows(result.rows, want.fetchall(), ["orders_status", "orders_order_count"])


def test_field_setting_wins_over_model(tmp_path: Path, duck: duckdb.DuckDBPyConnection) -> None:
    """A field's own `case_sensitive: true` keeps exact matching under a folding model."""
    models = MODELS.format(customers="false", orders="false").replace(
        "country\n        meta: {dimension: {type: string}}",
        "country\n        meta: {dimension: {type: string, case_sensitive: true}}",
    )
    project = mq.load_project(make_project(tmp_path, {"models": models}))
    result = _run(project, duck, explore_name="orders", metrics=["orders_german_orders"])
    exact = "c.country = 'Germany'"
    want = duck.sql(
        f"SELECT o.status, COUNT(CASE WHEN {exact} THEN o.order_id END) {JOINED} GROUP BY 1"
    )
    assert_same_rows(result.rows, want.fetchall(), ["orders_status", "orders_german_orders"])
