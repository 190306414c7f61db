"""Finding 2: field protection follows every reference the compiled SQL reads."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

import metricql as mq
from tests.conftest import assert_same_rows
from tests.security.conftest import AUTHOR, FINANCE, query


def _rule(field: str, op: str, values: list[Any]) -> dict[str, Any]:
    return {"id": "r", "target": {"fieldId": field}, "operator": op, "values": values}


def _where(field: str, op: str, values: list[Any]) -> dict[str, Any]:
    return {"dimensions": {"id": "g", "and": [_rule(field, op, values)]}}


EMAIL = mq.CustomSqlDimension(id="e", name="e", table="accounts", sql="${users.email}")
REVENUE_BIN = mq.CustomBinDimension(
    id="b", name="b", table="accounts", dimension_id="accounts_annual_revenue",
    bin_type="fixed_width", bin_width=1,
)  # fmt: skip
ATTACKS: dict[str, tuple[mq.MetricQuery, str]] = {
    "custom dimension": (query(dimensions=["e"], custom_dimensions=[EMAIL]), "users_email"),
    "custom over custom": (
        query(
            dimensions=["e2"],
            custom_dimensions=[
                EMAIL,
                mq.CustomSqlDimension(id="e2", name="e2", table="accounts", sql="upper(${e})"),
            ],
        ),
        "users_email",
    ),
    "width-1 bin": (
        query(
            dimensions=["b"], metrics=["accounts_account_count"], custom_dimensions=[REVENUE_BIN]
        ),
        "accounts_annual_revenue",
    ),
    "fixed_number bin": (
        query(
            dimensions=["b"],
            custom_dimensions=[
                REVENUE_BIN.model_copy(update={"bin_type": "fixed_number", "bin_number": 3})
            ],
        ),
        "accounts_annual_revenue",
    ),
    "additional metric": (
        query(
            metrics=["accounts_m"],
            additional_metrics=[
                mq.AdditionalMetric(table="accounts", name="m", type="sum", sql="${annual_revenue}")
            ],
        ),
        "accounts_annual_revenue",
    ),
    "additional metric filter": (
        query(
            metrics=["accounts_m"],
            additional_metrics=[
                mq.AdditionalMetric(
                    table="accounts",
                    name="m",
                    type="count",
                    sql="${account_id}",
                    filters=[_rule("annual_revenue", "greaterThan", [5000])],
                )
            ],
        ),
        "accounts_annual_revenue",
    ),
    "filter on a custom dimension (yes/no oracle)": (
        query(
            metrics=["accounts_account_count"],
            custom_dimensions=[EMAIL],
            filters=_where("e", "equals", ["user0@acme.io"]),
        ),
        "users_email",
    ),
    "YAML dimension over a protected one": (
        query(dimensions=["accounts_revenue_band"]),
        "accounts_revenue_band",
    ),
    "YAML metric over a protected dimension": (
        query(metrics=["accounts_biggest_revenue"]),
        "accounts_biggest_revenue",
    ),
    "protected table through a join": (
        query(dimensions=["invoices_amount_cents"]),
        "invoices",
    ),
    "sort on a protected metric": (
        query(
            metrics=["accounts_account_count", "accounts_total_revenue"],
            sorts=[{"fieldId": "accounts_total_revenue", "descending": True}],
        ),
        "accounts_total_revenue",
    ),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_every_reference_is_checked(acme: mq.Project, attack: str) -> None:
    q, culprit = ATTACKS[attack]
    if not q.metrics:  # totals need a metric; the attack is in the rest of the query
        q = q.model_copy(update={"metrics": ("accounts_account_count",)})
    with pytest.raises(mq.ForbiddenError, match=culprit):
        acme.compile(q, user=AUTHOR)
    with pytest.raises(mq.ForbiddenError, match=culprit):
        acme.compile_totals(q, user=AUTHOR)  # totals read the same closure


def test_calculation_totals_read_only_selected_columns(
    acme: mq.Project, acme_db: duckdb.DuckDBPyConnection
) -> None:
    q = query(
        dimensions=["accounts_region"],
        metrics=["accounts_account_count"],
        table_calculations=[{"name": "t", "sql": "total(${accounts.account_count})"}],
    )
    rows = acme.run(q, user=AUTHOR, connection=acme_db).rows
    assert rows == [{"accounts_region": "NA", "accounts_account_count": 100, "t": 100}]


def test_inherited_protection_lets_the_entitled_user_read(
    acme: mq.Project, acme_db: duckdb.DuckDBPyConnection
) -> None:
    q = query(dimensions=["accounts_revenue_band"], metrics=["accounts_biggest_revenue"])
    rows = acme.run(q, user=FINANCE, connection=acme_db).rows
    want = acme_db.sql(
        "SELECT CASE WHEN annual_revenue >= 150000 THEN 'big' ELSE 'small' END, "
        "max(annual_revenue) FROM accounts WHERE region = 'NA' GROUP BY 1"
    ).fetchall()
    assert_same_rows(rows, want, ["accounts_revenue_band", "accounts_biggest_revenue"])
    hidden = acme.explores_for(AUTHOR)["accounts"]
    assert "accounts_revenue_band" not in hidden.dimensions
    assert "accounts_biggest_revenue" not in hidden.metrics
