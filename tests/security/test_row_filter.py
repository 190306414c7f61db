"""Finding 12: `sql_filter` filters only where its table is the explore's base (Lightdash's
rule); `meta.row_filter` filters every scan of its table, wherever it is joined."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from sqlglot import exp

import metricql as mq
from tests.conftest import assert_same_rows
from tests.helpers import make_project
from tests.security.conftest import MODELS, query

ROW_FILTER = """  - name: users
    meta:
      primary_key: user_id
      row_filter: ${TABLE}.email LIKE ${lightdash.attributes.email_pattern}
"""
USER = mq.UserContext(
    attributes={"region": "NA", "pii": "yes", "email_pattern": "user1%"}, custom_sql=True
)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> mq.Project:
    models = MODELS.replace("  - name: users\n    meta:\n      primary_key: user_id\n", ROW_FILTER)
    assert "row_filter" in models
    return mq.load_project(make_project(Path(tmp_path_factory.mktemp("rf")), {"models": models}))


def test_row_filter_applies_where_the_table_is_joined(
    guarded: mq.Project, acme_db: duckdb.DuckDBPyConnection
) -> None:
    q = query(
        dimensions=["accounts_region"], metrics=["users_user_count", "accounts_account_count"]
    )
    rows = guarded.run(q, user=USER, connection=acme_db).rows
    want = acme_db.sql(
        "SELECT a.region, count(DISTINCT u.user_id), count(DISTINCT a.account_id) "
        "FROM accounts a LEFT JOIN users u ON u.account_id = a.account_id "
        "AND u.email LIKE 'user1%' WHERE a.region = 'NA' GROUP BY 1"
    ).fetchall()
    assert_same_rows(rows, want, ["accounts_region", "users_user_count", "accounts_account_count"])


def test_row_filter_applies_where_the_table_is_the_base(
    guarded: mq.Project, acme_db: duckdb.DuckDBPyConnection
) -> None:
    q = mq.MetricQuery(explore_name="users", metrics=["users_user_count"])
    rows = guarded.run(q, user=USER, connection=acme_db).rows
    (want,) = acme_db.sql("SELECT count(*) FROM users WHERE email LIKE 'user1%'").fetchall()
    assert rows == [{"users_user_count": want[0]}]


def test_row_filter_needs_the_attribute(guarded: mq.Project) -> None:
    q = mq.MetricQuery(explore_name="users", metrics=["users_user_count"])
    with pytest.raises(mq.ForbiddenError, match="email_pattern"):
        guarded.compile(q, user=mq.UserContext(attributes={"region": "NA"}))


def _guarded_scans(tree: exp.Expr) -> list[bool]:
    """For every scan of `users` in the tree: does its WHERE (base) or ON (joined) filter?"""
    out = []
    for table in tree.find_all(exp.Table):
        if table.name != "users":
            continue
        holder = table.parent
        condition = holder.args.get("on") if isinstance(holder, exp.Join) else None
        if isinstance(holder, exp.From):
            condition = holder.parent.args.get("where")
        out.append(condition is not None and "'user1%'" in condition.sql())
    return out


@pytest.mark.parametrize(
    "q",
    [
        query(
            dimensions=["accounts_region"], metrics=["users_user_count", "accounts_account_count"]
        ),
        query(dimensions=["users_account_id"], metrics=["accounts_account_count"]),
        query(
            dimensions=["b"],
            metrics=["users_user_count"],
            custom_dimensions=[
                mq.CustomBinDimension(
                    id="b",
                    name="b",
                    table="users",
                    dimension_id="users_user_id",
                    bin_type="fixed_number",
                    bin_number=4,
                )
            ],
        ),
        mq.MetricQuery(
            explore_name="users", dimensions=["users_account_id"], metrics=["users_user_count"]
        ),
    ],
)
def test_every_scan_of_the_table_carries_the_row_filter(
    guarded: mq.Project, q: mq.MetricQuery
) -> None:
    compiled = guarded.compile(q, user=USER)
    scans = _guarded_scans(compiled.tree)
    assert scans and all(scans), compiled.sql
    totals = guarded.compile_totals(q, user=USER)  # may not need the table at all
    assert all(_guarded_scans(totals.tree)), totals.sql
