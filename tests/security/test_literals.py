"""Finding 10: literal handling — quoted references, non-finite numbers, duplicate ids,
`limit: true`, model-paths outside the project."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import metricql as mq
from tests.conftest import assert_same_rows
from tests.helpers import make_project
from tests.security.conftest import AUTHOR, query


def test_reference_text_inside_a_string_stays_text(
    acme: mq.Project, acme_db: duckdb.DuckDBPyConnection
) -> None:
    custom = mq.CustomSqlDimension(
        id="x", name="x", table="accounts", sql="'${TABLE}' || ${accounts.region}"
    )
    q = query(dimensions=["x"], metrics=["accounts_account_count"], custom_dimensions=[custom])
    rows = acme.run(q, user=AUTHOR, connection=acme_db).rows
    assert rows == [{"x": "${TABLE}NA", "accounts_account_count": 100}]


@pytest.mark.parametrize(
    "text",
    [
        '{"exploreName": "accounts", "filters": {"dimensions": {"id": "g", "and": [{"id": "r", '
        '"target": {"fieldId": "accounts_account_id"}, "operator": "greaterThan", '
        '"values": [Infinity]}]}}}',
        '{"exploreName": "accounts", "customDimensions": [{"id": "b", "name": "b", '
        '"table": "accounts", "type": "bin", "dimensionId": "accounts_account_id", '
        '"binType": "fixed_width", "binWidth": NaN}]}',
    ],
)
def test_non_finite_numbers_are_refused(acme: mq.Project, text: str) -> None:
    with pytest.raises(mq.QueryError):  # at parse time (bins) or when rendering the filter
        acme.compile(mq.parse_query(text), user=AUTHOR)


def test_two_custom_dimensions_with_one_id_are_refused(acme: mq.Project) -> None:
    one = mq.CustomSqlDimension(id="x", name="x", table="accounts", sql="${accounts.region}")
    two = one.model_copy(update={"sql": "${accounts.name}"})
    q = query(dimensions=["x"], custom_dimensions=[one, two])
    with pytest.raises(mq.QueryError, match="share the id"):
        acme.compile(q, user=AUTHOR)


def test_limit_true_is_not_one() -> None:
    with pytest.raises(mq.QueryError, match="limit"):
        mq.parse_query({"exploreName": "accounts", "limit": True})


def test_model_paths_must_stay_inside_the_project(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    root = make_project(tmp_path / "p", {"m": "models: []\n"})
    (root / "dbt_project.yml").write_text(
        "name: demo\nprofile: demo\nmodel-paths: [models, ../elsewhere]\n"
    )
    with pytest.raises(mq.ProjectError, match="outside the project"):
        mq.load_project(root)


def test_a_join_that_needs_a_later_join_is_ordered_after_it(
    tmp_path: Path, acme_db: duckdb.DuckDBPyConnection
) -> None:
    models = """
models:
  - name: invoices
    meta:
      primary_key: invoice_id
      joins:
        - join: users  # declared first, but its ON reads accounts
          sql_on: ${users.account_id} = ${accounts.account_id}
          relationship: many-to-many
        - join: accounts
          sql_on: ${accounts.account_id} = ${invoices.account_id}
          relationship: many-to-one
    columns:
      - name: invoice_id
        meta: {dimension: {type: number}, metrics: {n: {type: count_distinct}}}
      - name: account_id
        meta: {dimension: {type: number}}
  - name: accounts
    columns:
      - name: account_id
        meta: {dimension: {type: number}}
  - name: users
    columns:
      - name: user_id
        meta: {dimension: {type: number}}
      - name: account_id
        meta: {dimension: {type: number}}
"""
    project = mq.load_project(make_project(tmp_path, {"models": models}))
    q = mq.MetricQuery(
        explore_name="invoices", dimensions=["users_user_id"], metrics=["invoices_n"], limit=None
    )
    rows = project.run(q, connection=acme_db).rows
    want = acme_db.sql(
        "SELECT u.user_id, count(DISTINCT i.invoice_id) FROM invoices i "
        "LEFT JOIN accounts a ON a.account_id = i.account_id "
        "LEFT JOIN users u ON u.account_id = a.account_id GROUP BY 1"
    ).fetchall()
    assert_same_rows(rows, want, ["users_user_id", "invoices_n"])


@pytest.mark.parametrize(
    ("models", "culprit"),
    [
        (
            "models:\n  - name: m\n    columns:\n"
            "      - name: a\n        meta: {dimension: {type: number, sql: '1'}}\n"
            "      - name: a\n        meta: {dimension: {type: number, sql: '2'}}\n",
            "listed twice",
        ),
        (
            "models:\n  - name: a_b\n    meta:\n      joins:\n        - join: a\n"
            "          sql_on: '1=1'\n    columns:\n"
            "      - name: c\n        meta: {dimension: {type: number}}\n"
            "  - name: a\n    columns:\n"
            "      - name: b_c\n        meta: {dimension: {type: number}}\n",
            "share the id 'a_b_c'",
        ),
    ],
)
def test_colliding_names_are_errors_not_silent(tmp_path: Path, models: str, culprit: str) -> None:
    make_project(tmp_path, {"models": models})
    with pytest.raises(mq.ProjectError, match=culprit):
        mq.load_project(tmp_path, strict=True)
    project = mq.load_project(tmp_path)  # isolated: the problem is recorded, never silent
    assert any(culprit in e.message for e in project.errors)
