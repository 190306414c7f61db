"""Access control: required_attributes, user attributes in SQL and filter values, as literals."""

from __future__ import annotations

import duckdb
import pytest
from sqlglot import exp

import metricql as mq
from tests.conftest import assert_same_rows
from tests.helpers import make_project

MODELS = """
models:
  - name: customers
    meta:
      required_attributes: {can_see_pii: "yes"}
      primary_key: customer_id
    columns:
      - name: customer_id
        meta:
          dimension: {type: number}
          metrics:
            customers: {type: count}
      - name: email
        meta: {dimension: {type: string}}
  - name: orders
    meta:
      primary_key: order_id
      sql_filter: ${TABLE}.status = ${lightdash.attributes.status}
      joins:
        - join: customers
          sql_on: ${orders.customer_id} = ${customers.customer_id}
          relationship: many-to-one
    columns:
      - name: order_id
        meta:
          dimension: {type: number}
          metrics:
            n: {type: count}
      - name: customer_id
        meta: {dimension: {type: number}}
      - name: status
        meta: {dimension: {type: string}}
      - name: amount
        meta:
          dimension:
            type: number
            required_attributes: {role: [finance, admin]}
          metrics:
            revenue: {type: sum}
      - name: discount_code
        meta: {dimension: {type: string}}
"""


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> mq.Project:
    return mq.load_project(make_project(tmp_path_factory.mktemp("acl"), {"models": MODELS}))


ANALYST = mq.UserContext(attributes={"status": "completed", "role": "analyst"}, email="a@x.io")
AUTHOR = mq.UserContext(attributes={"status": "completed", "role": "analyst"}, custom_sql=True)
FINANCE = mq.UserContext(
    attributes={"status": "completed", "role": ("finance",), "can_see_pii": "yes"}
)


SQL_OVER_AMOUNT = mq.CustomSqlDimension(
    id="doubled",
    name="doubled",
    table="orders",
    sql="${orders.amount} * 2",
    dimension_type="number",
)
BIN_OVER_AMOUNT = mq.CustomBinDimension(
    id="amount_bin", name="bin", table="orders", dimension_id="orders_amount",
    bin_type="fixed_width", bin_width=10,
)  # fmt: skip
METRIC_OVER_AMOUNT = mq.AdditionalMetric(
    table="orders", name="big", type="max", sql="${orders.amount}"
)


def _q(**kw: object) -> mq.MetricQuery:
    return mq.MetricQuery(explore_name="orders", limit=None, **kw)  # type: ignore[arg-type]


def test_row_filter_uses_the_users_attribute(
    secured: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    rows = secured.run(_q(metrics=["orders_n"]), connection=duck, user=ANALYST).rows
    want = duck.sql("SELECT COUNT(*) FROM main.orders WHERE status = 'completed'").fetchall()
    assert_same_rows(rows, want, ["orders_n"])


def test_hostile_attribute_value_is_a_literal(
    secured: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    hostile = mq.UserContext(attributes={"status": "' OR 1=1 --"})
    rows = secured.run(_q(metrics=["orders_n"]), connection=duck, user=hostile).rows
    assert rows == [{"orders_n": 0}]


@pytest.mark.parametrize(
    ("query", "user", "culprit"),
    [
        (_q(metrics=["orders_n"]), None, "status"),  # attribute used in sql_filter, no user
        (_q(metrics=["orders_n"]), mq.UserContext(attributes={"role": "x"}), "status"),
        (_q(metrics=["orders_revenue"]), ANALYST, "orders_revenue"),  # inherits amount's rule
        (_q(dimensions=["orders_amount"], metrics=["orders_n"]), ANALYST, "orders_amount"),
        (_q(dimensions=["customers_email"]), ANALYST, "customers"),  # protected table
        (
            _q(
                metrics=["orders_n"],
                filters={
                    "dimensions": {
                        "id": "g",
                        "and": [
                            {
                                "id": "r",
                                "target": {"fieldId": "orders_amount"},
                                "operator": "greaterThan",
                                "values": [1],
                            }
                        ],
                    }
                },
            ),
            ANALYST,
            "orders_amount",
        ),  # filtering counts as reading
        # Reading a protected field through query-defined SQL is reading it (plan.reads).
        (_q(dimensions=["doubled"], custom_dimensions=[SQL_OVER_AMOUNT]), AUTHOR, "orders_amount"),
        (
            _q(dimensions=["amount_bin"], custom_dimensions=[BIN_OVER_AMOUNT]),
            ANALYST,
            "orders_amount",
        ),
        (
            _q(metrics=["orders_big"], additional_metrics=[METRIC_OVER_AMOUNT]),
            AUTHOR,
            "orders_amount",
        ),
    ],
)
def test_forbidden(
    secured: mq.Project, query: mq.MetricQuery, user: mq.UserContext | None, culprit: str
) -> None:
    with pytest.raises(mq.ForbiddenError, match=culprit):
        secured.compile(query, user=user)


def test_allowed_user_reads_protected_fields(
    secured: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    rows = secured.run(
        _q(dimensions=["customers_email"], metrics=["orders_revenue"]),
        connection=duck,
        user=FINANCE,
    ).rows
    want = duck.sql("""SELECT c.email, SUM(o.amount) FROM main.orders o
                       LEFT JOIN main.customers c ON o.customer_id = c.customer_id
                       WHERE o.status = 'completed' GROUP BY 1""").fetchall()
    assert_same_rows(rows, want, ["customers_email", "orders_revenue"])


def test_explores_listing_hides_what_the_user_may_not_see(secured: mq.Project) -> None:
    seen = secured.explores_for(ANALYST)
    assert sorted(seen) == ["orders"]  # customers explore needs can_see_pii
    orders = seen["orders"]
    assert "orders_amount" not in orders.dimensions and "orders_revenue" not in orders.metrics
    assert "customers_email" not in orders.dimensions
    assert "orders_status" in orders.dimensions
    assert sorted(secured.explores_for(FINANCE)) == ["customers", "orders"]


def test_attribute_tokens_in_filter_values(
    secured: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    query = _q(
        metrics=["orders_n"],
        filters={
            "dimensions": {
                "id": "g",
                "and": [
                    {
                        "id": "r",
                        "target": {"fieldId": "orders_discount_code"},
                        "operator": "notEquals",
                        "values": ["${lightdash.attributes.role}", "${ld.user.email}"],
                    }
                ],
            }
        },
    )
    sql = secured.compile(query, user=ANALYST).sql
    assert "'analyst'" in sql and "'a@x.io'" in sql
    with pytest.raises(mq.ForbiddenError, match="role"):
        secured.compile(query, user=mq.UserContext(attributes={"status": "x"}))


def test_row_filter_reaches_every_scan(secured: mq.Project) -> None:
    """Every SELECT that reads the protected base table carries the user's row filter."""
    queries = [
        _q(dimensions=["orders_status"], metrics=["orders_n", "customers_customers"]),  # fan-out
        _q(metrics=["orders_n"]),
        _q(
            dimensions=["orders_status"],
            metrics=["orders_n"],
            filters={
                "metrics": {
                    "id": "m",
                    "and": [
                        {
                            "id": "r",
                            "target": {"fieldId": "orders_n"},
                            "operator": "greaterThan",
                            "values": [1],
                        }
                    ],
                }
            },
            table_calculations=[
                {"name": "t", "display_name": "T", "sql": "${orders.n} / total(${orders.n})"}
            ],
        ),
    ]
    user = mq.UserContext(attributes={"status": "completed", "can_see_pii": "yes"})
    for query in queries:
        for compiled in (
            secured.compile(query, user=user),
            secured.compile_totals(query, user=user),
        ):
            scans = [
                s
                for s in compiled.tree.find_all(exp.Select)
                if s.args.get("from_") is not None
                and isinstance(s.args["from_"].this, exp.Table)
                and s.args["from_"].this.name == "orders"
            ]
            assert scans, compiled.sql
            for select in scans:
                where = select.args.get("where")
                assert where is not None and "'completed'" in where.sql(), select.sql()
