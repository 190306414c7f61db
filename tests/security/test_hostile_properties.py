"""Property tests: hostile custom SQL built from a grammar never runs with access the user
lacks, and random query JSON raises only MetricQLError."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metricql as mq
from metricql.query.model import FilterOperator
from tests.security.conftest import AUTHOR, query

# (SQL, hostile?) atoms: a hostile one reads what AUTHOR may not (protected field, another
# table, a host file, raw columns) or is refused by the policy.
SAFE_ATOMS = ["${accounts.name}", "${accounts.region}", "'x'", "'NA'"]
HOSTILE_ATOMS = [
    "${users.email}",
    "CAST(${accounts.annual_revenue} AS TEXT)",
    "${TABLE}.name",
    "name",
    "accounts.name",
    "(SELECT email FROM users LIMIT 1)",
    "(SELECT 'a' UNION SELECT 'b')",
    "read_text('/etc/passwd')",
    "query('SELECT 1')",
    "getenv('HOME')",
    "CAST((SELECT count(*) FROM accounts) AS TEXT)",
    "ARRAY(SELECT amount_cents FROM invoices)[1]",
]
Expr = tuple[str, bool]
atoms: st.SearchStrategy[Expr] = st.one_of(
    st.sampled_from([(a, False) for a in SAFE_ATOMS]),
    st.sampled_from([(a, True) for a in HOSTILE_ATOMS]),
)


def _combine(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    def unary(fn: str) -> st.SearchStrategy[Expr]:
        return children.map(lambda c: (f"{fn}({c[0]})", c[1]))

    pair = st.tuples(children, children)
    return st.one_of(
        unary("upper"),
        unary("lower"),
        pair.map(lambda p: (f"{p[0][0]} || {p[1][0]}", p[0][1] or p[1][1])),
        pair.map(lambda p: (f"coalesce({p[0][0]}, {p[1][0]})", p[0][1] or p[1][1])),
        pair.map(
            lambda p: (
                f"CASE WHEN {p[0][0]} = 'NA' THEN {p[1][0]} ELSE 'z' END",
                p[0][1] or p[1][1],
            )
        ),
    )


expressions = st.recursive(atoms, _combine, max_leaves=6)
DEFAULT = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _as_dimension(sql: str) -> mq.MetricQuery:
    custom = mq.CustomSqlDimension(id="x", name="x", table="accounts", sql=sql)
    return query(dimensions=["x"], metrics=["accounts_account_count"], custom_dimensions=[custom])


def _as_metric(sql: str) -> mq.MetricQuery:
    extra = mq.AdditionalMetric(table="accounts", name="m", type="max", sql=sql)
    return query(metrics=["accounts_m", "accounts_account_count"], additional_metrics=[extra])


@DEFAULT
@given(expr=expressions, as_metric=st.booleans())
def test_hostile_custom_sql_never_runs(
    acme: mq.Project, acme_db: duckdb.DuckDBPyConnection, expr: Expr, as_metric: bool
) -> None:
    sql, hostile = expr
    q = (_as_metric if as_metric else _as_dimension)(sql)
    try:
        compiled = acme.compile(q, user=AUTHOR)
    except (mq.ForbiddenError, mq.QueryError) as err:
        assert hostile, f"a safe expression was refused: {sql} ({err})"
        return
    assert not hostile, f"hostile SQL compiled: {sql}\n{compiled.sql}"
    rows = acme.run(q, user=AUTHOR, connection=acme_db).rows
    assert sum(r["accounts_account_count"] for r in rows) == 100  # the row filter held


def _calc_sql(expr: Expr) -> Expr:
    sql, hostile = expr
    return sql.replace("${accounts.name}", "${accounts.account_count}"), hostile


@DEFAULT
@given(expr=expressions.map(_calc_sql))
def test_hostile_table_calculations_never_run(acme: mq.Project, expr: Expr) -> None:
    sql, hostile = expr
    q = query(
        dimensions=["accounts_region"],
        metrics=["accounts_account_count"],
        table_calculations=[{"name": "t", "sql": f"CAST({sql} AS TEXT)"}],
    )
    analyst = mq.UserContext(attributes={"region": "NA"})
    try:
        acme.compile(q, user=analyst)
    except mq.QueryError:
        return  # refused (hostile or ill-typed): either way nothing ran
    assert not hostile, f"hostile calculation compiled: {sql}"


# Random query JSON: Lightdash's keys with plausible and implausible values.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = ["accounts_account_id", "accounts_region", "accounts_account_count", "users_email", "x"]
field_ids = st.sampled_from(FIELDS) | st.text(max_size=10)
rules = st.fixed_dictionaries(
    {
        "id": st.text(max_size=4),
        "target": st.fixed_dictionaries({"fieldId": field_ids}),
        "operator": st.sampled_from([op.value for op in FilterOperator]) | st.text(max_size=6),
        "values": st.lists(json_values, max_size=3),
    }
)
groups = st.recursive(
    st.fixed_dictionaries({"id": st.just("g"), "and": st.lists(rules, max_size=3)}),
    lambda inner: st.fixed_dictionaries(
        {"id": st.just("g"), "or": st.lists(inner | rules, max_size=3)}
    ),
    max_leaves=6,
)
KEYS: dict[str, st.SearchStrategy[Any]] = {
    "dimensions": st.lists(field_ids, max_size=3) | json_values,
    "metrics": st.lists(field_ids, max_size=3) | json_values,
    "filters": st.fixed_dictionaries({}, optional={"dimensions": groups, "metrics": groups})
    | json_values,
    "sorts": st.lists(st.fixed_dictionaries({"fieldId": field_ids, "descending": st.booleans()}))
    | json_values,
    "limit": st.integers(min_value=-5, max_value=10**6) | json_values,
    "tableCalculations": st.lists(
        st.fixed_dictionaries({"name": st.text(max_size=4), "sql": st.text(max_size=20)})
    )
    | json_values,
    "customDimensions": st.lists(
        st.fixed_dictionaries(
            {
                "id": st.text(max_size=3),
                "name": st.text(max_size=3),
                "table": st.sampled_from(["accounts", "users", "nope"]),
                "type": st.sampled_from(["bin", "sql", "x"]),
                "sql": st.text(max_size=20),
                "dimensionId": field_ids,
                "binType": st.sampled_from(["fixed_number", "fixed_width", "custom_range"]),
                "binNumber": st.integers(min_value=-3, max_value=10**9),
                "binWidth": st.floats(),
            }
        ),
        max_size=2,
    )
    | json_values,
    "additionalMetrics": st.lists(
        st.fixed_dictionaries(
            {
                "table": st.sampled_from(["accounts", "nope"]),
                "name": st.text(max_size=3),
                "type": st.sampled_from(["sum", "count", "max", "number", "x"]),
                "sql": st.text(max_size=20),
            }
        ),
        max_size=2,
    )
    | json_values,
}
queries = st.fixed_dictionaries(
    {"exploreName": st.sampled_from(["accounts", "users", "pii_accounts", "nope"]) | json_values},
    optional=KEYS,
)


def _only_named_errors(acme: mq.Project, body: dict[str, Any]) -> None:
    try:
        q = mq.parse_query(body)
        acme.compile(q, user=AUTHOR)
    except mq.MetricQLError:
        pass


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=queries)
def test_random_query_json_raises_only_metricql_errors(
    acme: mq.Project, body: dict[str, Any]
) -> None:
    _only_named_errors(acme, body)


@pytest.mark.long
@settings(
    max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=queries)
def test_random_query_json_long_run(acme: mq.Project, body: dict[str, Any]) -> None:
    _only_named_errors(acme, body)
