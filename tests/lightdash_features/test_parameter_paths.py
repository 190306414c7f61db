"""Parameters reach every compile path (totals, explain, table calculations, custom SQL) with
the same values as the query itself; oracles on DuckDB against hand-written SQL."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

import metricql as mq

METRICS = ["orders_revenue_in_statuses", "orders_order_count"]
VALUES = {"region": "US", "min_amount": 20, "statuses": ["completed", "returned"]}
# The query's rows by hand: is_large uses min_amount, the metric statuses, the filter region.
ROWS_SQL = """
SELECT o.amount >= 20 AS is_large,
       SUM(CASE WHEN o.status IN ('completed', 'returned') THEN o.amount END) AS revenue,
       COUNT(DISTINCT o.order_id) AS orders
FROM main.orders o LEFT JOIN main.customers c USING (customer_id)
WHERE c.country = 'US' GROUP BY 1
"""


def _query(*, in_query: bool, metric_filter: bool = False, **extra: Any) -> mq.MetricQuery:
    token = {"id": "r", "target": {"fieldId": "customers_country"}, "operator": "equals",
             "values": ["${lightdash.parameters.region}"]}  # fmt: skip
    filters: dict[str, Any] = {"dimensions": {"id": "g", "and": [token]}}
    if metric_filter:  # totals then join the groups that pass: a second compile path
        rule = {"id": "m", "target": {"fieldId": "orders_order_count"}, "operator": "greaterThan"}
        filters["metrics"] = {"id": "h", "and": [{**rule, "values": [0]}]}
    body = {
        "exploreName": "orders",
        "dimensions": ["orders_is_large"],
        "metrics": METRICS,
        "filters": filters,
        **extra,
    }
    if in_query:
        body["parameters"] = VALUES
    return mq.MetricQuery.model_validate(body)


def _keyword(in_query: bool) -> dict[str, Any]:
    return {} if in_query else {"parameters": VALUES}


@pytest.mark.parametrize("metric_filter", [False, True])
@pytest.mark.parametrize("in_query", [True, False])
def test_totals_equal_the_sum_of_the_rows(
    features: mq.Project, fduck: duckdb.DuckDBPyConnection, in_query: bool, metric_filter: bool
) -> None:
    query = _query(in_query=in_query, metric_filter=metric_filter)
    kw = _keyword(in_query)
    want = fduck.sql(ROWS_SQL).fetchall()
    rows = features.run(query, connection=fduck, **kw).rows
    assert sorted((r["orders_is_large"], r["orders_order_count"]) for r in rows) == sorted(
        (w[0], w[2]) for w in want
    )
    totals = features.totals(query, connection=fduck, **kw)
    assert totals["orders_revenue_in_statuses"] == pytest.approx(float(sum(w[1] for w in want)))
    assert totals["orders_order_count"] == sum(w[2] for w in want)
    used = dict(features.compile_totals(query, **kw).parameters)
    # without metric filters the totals read no dimension: min_amount is not in their SQL
    assert used == {"region": "US", "statuses": ("completed", "returned")} | (
        {"min_amount": 20} if metric_filter else {}
    )


def test_totals_for_a_user_take_the_parameters(
    features: mq.Project, fduck: duckdb.DuckDBPyConnection
) -> None:
    # a user's totals check the query first: with the same values, not the raw tokens
    number = {"id": "n", "target": {"fieldId": "orders_amount"}, "operator": "greaterThan",
              "values": ["${lightdash.parameters.min_amount}"]}  # fmt: skip
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "metrics": ["orders_order_count"],
            "filters": {"dimensions": {"id": "g", "and": [number]}},
        }
    )
    user = mq.UserContext(attributes={})
    (want,) = fduck.sql("SELECT COUNT(*) FROM main.orders WHERE amount > 15").fetchall()[0]
    got = features.totals(query, connection=fduck, user=user, parameters={"min_amount": 15})
    assert got == {"orders_order_count": want}


@pytest.mark.parametrize("in_query", [True, False])
def test_explain_shows_the_sql_that_runs(features: mq.Project, in_query: bool) -> None:
    query = _query(in_query=in_query)
    kw = _keyword(in_query)
    explained = features.explain(query, **kw)
    assert explained.sql == features.compile(query, **kw).sql
    assert "'US'" in explained.sql and ">= 20" in explained.sql and "'returned'" in explained.sql


def _with_calc(sql: str, **extra: Any) -> mq.MetricQuery:
    calc = {"name": "scaled", "displayName": "Scaled", "sql": sql}
    return _query(in_query=False, tableCalculations=[calc], **extra)


def test_table_calculation_takes_parameter_values(
    features: mq.Project, fduck: duckdb.DuckDBPyConnection
) -> None:
    want = {w[0]: w[2] * 20 * 3 for w in fduck.sql(ROWS_SQL).fetchall()}
    query = _with_calc(
        "${orders.order_count} * ${lightdash.parameters.min_amount}"
        " * ${ld.parameters.orders.fx_rate}"
    )
    values = {**VALUES, "orders.fx_rate": 3}
    rows = features.run(query, connection=fduck, parameters=values).rows
    assert {r["orders_is_large"]: r["scaled"] for r in rows} == pytest.approx(want)
    # the grand total of the calculation takes the same values
    totals = features.totals(query, connection=fduck, parameters=values)
    assert totals["scaled"] == pytest.approx(sum(want.values()))
    # a second compile with other values never reuses the first one's SQL
    other = features.run(query, connection=fduck, parameters={**values, "orders.fx_rate": 1}).rows
    assert {r["orders_is_large"]: r["scaled"] for r in other} == pytest.approx(
        {k: v / 3 for k, v in want.items()}
    )


def test_table_calculation_with_a_multiple_parameter(
    features: mq.Project, fduck: duckdb.DuckDBPyConnection
) -> None:
    query = _with_calc("CASE WHEN 'returned' IN (${lightdash.parameters.statuses}) THEN 1 END")
    for statuses, want in ((["completed", "returned"], 1), (["placed"], None)):
        rows = features.run(query, connection=fduck, parameters={**VALUES, "statuses": statuses})
        assert {r["scaled"] for r in rows.rows} == {want}


def test_unknown_parameter_in_a_table_calculation_is_named(features: mq.Project) -> None:
    query = _with_calc("${orders.order_count} * ${lightdash.parameters.nope}")
    with pytest.raises(mq.QueryError, match="parameter 'nope' is not defined") as err:
        features.compile(query, parameters=VALUES)
    assert err.value.context["parameter"] == "nope"
    with pytest.raises(mq.QueryError, match="missing value for parameter 'region'"):
        features.compile(_with_calc("${ld.parameters.region}"))


def test_custom_sql_dimension_and_additional_metric_take_parameter_values(
    features: mq.Project, fduck: duckdb.DuckDBPyConnection
) -> None:
    query = _query(
        in_query=False,
        customDimensions=[
            {
                "id": "above",
                "name": "above",
                "table": "orders",
                "type": "sql",
                "dimensionType": "boolean",
                "sql": "${orders.amount} > ${lightdash.parameters.min_amount}",
            }
        ],
        additionalMetrics=[
            {
                "name": "scaled_sum",
                "table": "orders",
                "type": "sum",
                "sql": "${TABLE}.amount * ${ld.parameters.orders.fx_rate}",
            }
        ],
    ).model_copy(update={"dimensions": ("above",), "metrics": ("orders_scaled_sum",)})
    want = fduck.sql(
        "SELECT o.amount > 15, SUM(o.amount * 4) FROM main.orders o "
        "LEFT JOIN main.customers c USING (customer_id) WHERE c.country = 'US' GROUP BY 1"
    ).fetchall()
    values = {**VALUES, "min_amount": 15, "orders.fx_rate": 4}
    rows = features.run(query, connection=fduck, parameters=values).rows
    assert {r["above"]: r["orders_scaled_sum"] for r in rows} == pytest.approx(dict(want))
