"""Finding 1: custom SQL is an expression over visible fields, and writing it is a permission."""

from __future__ import annotations

import duckdb
import pytest

import metricql as mq
from metricql.compiler.compile import compile_query
from metricql.compiler.options import CompileOptions
from tests.conftest import assert_same_rows
from tests.security.conftest import ANALYST, AUTHOR, query


def _dimension(sql: str) -> mq.MetricQuery:
    custom = mq.CustomSqlDimension(id="x", name="x", table="accounts", sql=sql)
    return query(dimensions=["x"], metrics=["accounts_account_count"], custom_dimensions=[custom])


def _metric(sql: str) -> mq.MetricQuery:
    extra = mq.AdditionalMetric(table="accounts", name="m", type="max", sql=sql)
    return query(metrics=["accounts_m"], additional_metrics=[extra])


def _calculation(sql: str) -> mq.MetricQuery:
    return query(
        dimensions=["accounts_region"],
        metrics=["accounts_account_count"],
        table_calculations=[{"name": "t", "sql": sql}],
    )


def test_custom_sql_needs_the_permission(acme: mq.Project) -> None:
    for q in (_dimension("upper(${accounts.name})"), _metric("${accounts.account_id}")):
        with pytest.raises(mq.ForbiddenError, match="may not write"):
            acme.compile(q, user=ANALYST)
        acme.compile(q, user=AUTHOR)  # the same query with the permission compiles


def test_table_calculations_need_no_permission(
    acme: mq.Project, acme_db: duckdb.DuckDBPyConnection
) -> None:
    rows = acme.run(
        _calculation("${accounts.account_count} * 2"), user=ANALYST, connection=acme_db
    ).rows
    assert rows == [{"accounts_region": "NA", "accounts_account_count": 100, "t": 200}]


HOSTILE = [
    ("ARRAY(SELECT amount_cents FROM invoices)", "function array"),  # a forbidden table
    ("'' || (SELECT content FROM read_text('/etc/passwd'))", "subquery"),  # host files
    ("query('SELECT * FROM invoices')", "function query"),  # any SQL text
    ("read_text('http://example.com/x')", "function read_text"),  # network extension install
    ("coalesce(${accounts.name}, (SELECT max(email) FROM users))", "subquery"),  # nested
    ("${accounts.name} || (SELECT 1 UNION SELECT 2)", "set operation|subquery"),
    ("${accounts.account_id} IN (SELECT account_id FROM invoices)", "subquery"),
    ("${TABLE}.annual_revenue", r"\$\{TABLE\}"),  # raw column of the YAML author
    ("annual_revenue", "raw column"),  # a bare column the warehouse would resolve
    ("getvariable('x')", "function getvariable"),
    ("CAST(${accounts.name} AS JSON)", "type JSON"),  # an extension type: a network install
    ("CAST(${accounts.name} AS GEOMETRY)", "type"),
]


@pytest.mark.parametrize(("sql", "why"), HOSTILE)
@pytest.mark.parametrize("build", [_dimension, _metric])
def test_hostile_custom_sql_is_refused(acme: mq.Project, sql: str, why: str, build: object) -> None:
    with pytest.raises(mq.SqlPolicyError, match=why):
        acme.compile(build(sql), user=AUTHOR)  # type: ignore[operator]


@pytest.mark.parametrize(
    "sql",
    [
        "0 + (SELECT count(*) FROM accounts)",  # escapes the row filter: 300 instead of 100
        "${accounts.account_count} + (SELECT 1 FROM read_text('/etc/passwd'))",
        "query('SELECT 1')",
        "${accounts.account_count} + account_count",
    ],
)
def test_hostile_table_calculation_is_refused(acme: mq.Project, sql: str) -> None:
    with pytest.raises(mq.SqlPolicyError):
        acme.compile(_calculation(sql), user=ANALYST)


def test_calculation_reads_only_the_querys_columns(acme: mq.Project) -> None:
    with pytest.raises(mq.QueryError, match="isn't included in the query"):
        acme.compile(_calculation("${accounts.total_revenue}"), user=ANALYST)


def test_allowed_custom_sql_keeps_the_row_filter(
    acme: mq.Project, acme_db: duckdb.DuckDBPyConnection
) -> None:
    q = _dimension("upper(${accounts.region}) || '-' || CAST(${accounts.account_id} % 2 AS TEXT)")
    rows = acme.run(q, user=AUTHOR, connection=acme_db).rows
    want = acme_db.sql(
        "SELECT upper(region) || '-' || CAST(account_id % 2 AS TEXT), count(*) "
        "FROM accounts WHERE region = 'NA' GROUP BY 1"
    ).fetchall()
    assert_same_rows(rows, want, ["x", "accounts_account_count"])


def test_trusted_callers_keep_full_sql_unless_they_ask(acme: mq.Project) -> None:
    custom = mq.CustomSqlDimension(id="x", name="x", table="users", sql="${TABLE}.email || '!'")
    q = mq.MetricQuery(explore_name="users", dimensions=["x"], custom_dimensions=[custom])
    explore = acme.explore("users")  # no sql_filter: a trusted caller needs no attributes
    compile_query(explore, q, CompileOptions(user=None))  # YAML-author power, as before
    with pytest.raises(mq.SqlPolicyError):
        compile_query(explore, q, CompileOptions(sql_policy=True))


def test_the_project_may_allow_more_functions(acme: mq.Project) -> None:
    q = _dimension("md5(${accounts.name})")
    explore = acme.explore("accounts")
    with pytest.raises(mq.SqlPolicyError, match="md5"):
        compile_query(explore, q, CompileOptions(user=AUTHOR))
    sql = compile_query(
        explore, q, CompileOptions(user=AUTHOR, allow_functions=frozenset({"md5"}))
    ).sql
    assert "MD5" in sql.upper()


def _ui_metric(column: str, base: str) -> mq.MetricQuery:
    made = mq.AdditionalMetric(
        table="accounts",
        name="s",
        type="sum",
        sql=f"${{TABLE}}.{column}",
        base_dimension_name=base,
    )  # what Lightdash's UI sends for "sum of this dimension"
    return query(metrics=["accounts_s"], additional_metrics=[made])


def test_ui_made_metrics_need_no_permission(
    acme: mq.Project, acme_db: duckdb.DuckDBPyConnection
) -> None:
    rows = acme.run(_ui_metric("account_id", "account_id"), user=ANALYST, connection=acme_db).rows
    (want,) = acme_db.sql("SELECT sum(account_id) FROM accounts WHERE region = 'NA'").fetchall()
    assert rows == [{"accounts_s": want[0]}]
    with pytest.raises(mq.ForbiddenError, match="accounts_annual_revenue"):  # still protected
        acme.compile(_ui_metric("annual_revenue", "annual_revenue"), user=AUTHOR)


def test_a_ui_made_metric_that_lies_about_its_dimension_is_custom_sql(acme: mq.Project) -> None:
    lying = _ui_metric("annual_revenue", "account_id")
    with pytest.raises(mq.ForbiddenError, match="may not write"):
        acme.compile(lying, user=ANALYST)
    with pytest.raises(mq.SqlPolicyError):
        acme.compile(lying, user=AUTHOR)
