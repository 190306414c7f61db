"""Findings 4 and 9: warehouse errors have a public face; user attributes are validated."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import metricql as mq
from metricql.server.schemas import from_metricql
from tests.conftest import assert_same_rows
from tests.helpers import make_project
from tests.security.conftest import FINANCE, MODELS, query


def test_warehouse_errors_keep_data_out_of_the_public_message(
    acme: mq.Project, acme_db: duckdb.DuckDBPyConnection
) -> None:
    cast = mq.CustomSqlDimension(id="x", name="x", table="users", sql="CAST(${users.email} AS INT)")
    q = mq.MetricQuery(explore_name="users", dimensions=["x"], custom_dimensions=[cast])
    with pytest.raises(mq.WarehouseError) as caught:
        acme.run(q, user=FINANCE, connection=acme_db)
    err = caught.value
    assert "@acme.io" in err.detail  # the embedding service may read the driver's message
    assert "@acme.io" not in err.public_message and err.code in err.public_message
    api = from_metricql(err)  # what the HTTP server answers
    assert "@acme.io" not in str(api.message) and "@acme.io" not in str(api.data)


def test_multi_valued_attributes_filter_with_in(
    acme: mq.Project, acme_db: duckdb.DuckDBPyConnection
) -> None:
    listed = mq.UserContext(attributes={"region": ["NA", "EMEA"]})  # as JSON gives it
    tupled = mq.UserContext(attributes={"region": ("NA", "EMEA")})
    q = query(dimensions=["accounts_region"], metrics=["accounts_account_count"])
    rows = acme.run(q, user=listed, connection=acme_db).rows
    want = acme_db.sql(
        "SELECT region, count(*) FROM accounts WHERE region IN ('NA', 'EMEA') GROUP BY 1"
    ).fetchall()
    assert_same_rows(rows, want, ["accounts_region", "accounts_account_count"])
    assert "[" not in acme.compile(q, user=listed).sql
    assert acme.compile(q, user=listed).sql == acme.compile(q, user=tupled).sql


def test_in_form_of_a_multi_valued_attribute(
    acme_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    text = MODELS.replace(
        "${TABLE}.region = ${lightdash.attributes.region}",
        "${TABLE}.region IN (${lightdash.attributes.region})",
    )
    project = mq.load_project(make_project(tmp_path, {"models": text}))
    user = mq.UserContext(attributes={"region": ["NA", "APAC"]})
    rows = project.run(query(metrics=["accounts_account_count"]), user=user, connection=acme_db)
    assert rows.rows == [{"accounts_account_count": 200}]


@pytest.mark.parametrize("value", [1, None, 2.5, {"a": "b"}, ["NA", 1]])
def test_attribute_values_are_strings_or_lists_of_strings(value: object) -> None:
    with pytest.raises(mq.QueryError, match="region"):
        mq.UserContext(attributes={"region": value})  # type: ignore[dict-item]
