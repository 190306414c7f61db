"""A hostile-author fixture: accounts with a row filter, a protected table and protected fields.

The analyst sees region NA only (100 of 300 accounts), lacks `role: finance` (annual_revenue,
the invoices table) and `pii: yes` (users.email), and has no custom-SQL permission.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import metricql as mq
from tests.helpers import make_project

MODELS = """
models:
  - name: accounts
    meta:
      primary_key: account_id
      explores:
        pii_accounts:  # Lightdash's pattern for a PII explore
          label: PII accounts
          required_attributes: {pii: "yes"}
      metrics:
        biggest_revenue: {type: max, sql: "${annual_revenue}"}
      sql_filter: ${TABLE}.region = ${lightdash.attributes.region}
      joins:
        - join: users
          sql_on: ${users.account_id} = ${accounts.account_id}
          relationship: one-to-many
        - join: invoices
          sql_on: ${invoices.account_id} = ${accounts.account_id}
          relationship: one-to-many
    columns:
      - name: account_id
        meta:
          dimension: {type: number}
          metrics:
            account_count: {type: count}
      - name: region
        meta: {dimension: {type: string}}
      - name: name
        meta:
          dimension: {type: string}
          additional_dimensions:
            revenue_band:  # reads a protected field: inherits its protection
              type: string
              sql: CASE WHEN ${annual_revenue} >= 150000 THEN 'big' ELSE 'small' END
      - name: annual_revenue
        meta:
          dimension:
            type: number
            required_attributes: {role: finance}
          metrics:
            total_revenue: {type: sum}
  - name: users
    meta:
      primary_key: user_id
    columns:
      - name: user_id
        meta:
          dimension: {type: number}
          metrics:
            user_count: {type: count}
      - name: account_id
        meta: {dimension: {type: number}}
      - name: email
        meta:
          dimension:
            type: string
            required_attributes: {pii: "yes"}
  - name: invoices
    meta:
      primary_key: invoice_id
      required_attributes: {role: finance}
    columns:
      - name: invoice_id
        meta: {dimension: {type: number}}
      - name: account_id
        meta: {dimension: {type: number}}
      - name: amount_cents
        meta:
          dimension: {type: number}
          metrics:
            invoiced: {type: sum}
"""

REGIONS = ("NA", "EMEA", "APAC")

ANALYST = mq.UserContext(attributes={"region": "NA", "role": "analyst"}, email="ana@acme.io")
AUTHOR = mq.UserContext(
    attributes={"region": "NA", "role": "analyst"}, email="sql@acme.io", custom_sql=True
)
FINANCE = mq.UserContext(
    attributes={"region": "NA", "role": "finance", "pii": "yes"}, custom_sql=True
)


def seed(conn: duckdb.DuckDBPyConnection) -> None:
    """300 accounts (100 per region), two users each, one invoice each."""
    conn.execute(
        "CREATE TABLE main.accounts AS SELECT i AS account_id, "
        "['NA', 'EMEA', 'APAC'][i % 3 + 1] AS region, 'acct ' || i AS name, "
        "1000 * i AS annual_revenue FROM range(300) t(i)"
    )
    conn.execute(
        "CREATE TABLE main.users AS SELECT i AS user_id, i // 2 AS account_id, "
        "'user' || i || '@acme.io' AS email FROM range(600) t(i)"
    )
    conn.execute(
        "CREATE TABLE main.invoices AS SELECT i AS invoice_id, i AS account_id, "
        "7 * i AS amount_cents FROM range(300) t(i)"
    )


@pytest.fixture(scope="session")
def hostile_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("security"), {"models": MODELS})


@pytest.fixture(scope="session")
def acme(hostile_root: Path) -> mq.Project:
    return mq.load_project(hostile_root)


@pytest.fixture(scope="session")
def acme_db() -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    seed(conn)
    return conn


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`long` tests run only when asked for (`pytest -m long`)."""
    if "long" in (config.getoption("-m") or ""):
        return
    # Deselected, not skipped: the default run reports no skipped tests.
    long = [item for item in items if "long" in item.keywords]
    if long:
        config.hook.pytest_deselected(items=long)
        items[:] = [item for item in items if "long" not in item.keywords]


def query(**kw: object) -> mq.MetricQuery:
    """A query on the accounts explore (no limit unless given)."""
    kw.setdefault("limit", None)
    return mq.MetricQuery(explore_name="accounts", **kw)  # type: ignore[arg-type]
