"""RunSqlQuery: one read-only SELECT runs with a limit; everything else is refused."""

from __future__ import annotations

import duckdb
import pytest

import metricql as mq

REFUSED = [
    "DROP TABLE main.orders",
    "SELECT 1; DROP TABLE main.orders",
    "INSERT INTO main.orders SELECT * FROM main.orders",
    "CREATE TABLE t AS SELECT 1",
    "SELECT * INTO t FROM main.orders",
    "COPY main.orders TO '/tmp/x.csv'",
    "ATTACH 'other.db'",
    "SET threads = 1",
    "PRAGMA version",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM 'secrets.csv'",
    "SELECT getenv('HOME')",
    "SELECT read_text('/etc/passwd')",
    "WITH x AS (SELECT * FROM glob('*')) SELECT * FROM x",
    "SELECT (SELECT getenv('HOME'))",
]


@pytest.mark.parametrize("sql", REFUSED)
def test_anything_but_one_select_is_forbidden(
    project: mq.Project, duck: duckdb.DuckDBPyConnection, sql: str
) -> None:
    with pytest.raises(mq.ForbiddenError):
        project.run_sql(sql, connection=duck)


def test_a_select_runs_with_its_limit_and_typed_fields(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    sql = (
        "SELECT status, COUNT(*) AS n, MIN(order_date) AS first"
        " FROM main.orders GROUP BY 1 ORDER BY 2 DESC"
    )
    result = project.run_sql(sql, limit=2, connection=duck)
    want = duck.execute(sql + " LIMIT 2").fetchall()
    assert [tuple(r.values()) for r in result.rows] == want
    assert [(f.id, f.type) for f in result.fields] == [
        ("status", "string"),
        ("n", "number"),
        ("first", "date"),
    ]


def test_users_need_the_custom_sql_permission(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    with pytest.raises(mq.ForbiddenError, match="may not run custom SQL"):
        project.run_sql("SELECT 1", user=mq.UserContext(), connection=duck)
    allowed = mq.UserContext(custom_sql=True)
    assert project.run_sql("SELECT 1 AS one", user=allowed, connection=duck).rows == [{"one": 1}]


def test_unparseable_sql_is_a_query_error(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    with pytest.raises(mq.QueryError):
        project.run_sql("SELEC FROM (", connection=duck)
