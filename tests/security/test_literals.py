"""Finding 10: literal handling — quoted references, non-finite numbers, duplicate ids,
`limit: true`, model-paths outside the project."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import metricql as mq
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
def test_non_finite_numbers_are_refused(text: str) -> None:
    with pytest.raises(mq.QueryError):
        mq.parse_query(text)
    python = {"exploreName": "accounts", "limit": None}
    with pytest.raises(mq.QueryError):  # the Python path refuses them too
        mq.parse_query(
            {**python, "filters": {"dimensions": {"id": "g", "and": [
                {"id": "r", "target": {"fieldId": "accounts_account_id"},
                 "operator": "equals", "values": [float("nan")]}]}}}
        )  # fmt: skip


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
