"""Lightdash parameters (issue 10, item 2): definitions, references everywhere SQL is allowed,
values per query as typed literals, checked against options; oracles on DuckDB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

import metricql as mq
from metricql.cli import main
from tests.conftest import assert_same_rows
from tests.helpers import make_project

REVENUE = ["orders_total_revenue"]


def _rows(project: mq.Project, conn: Any, body: dict[str, Any], **kw: Any) -> list[dict[str, Any]]:
    query = mq.MetricQuery.model_validate({"exploreName": "orders", **body})
    return project.run(query, connection=conn, **kw).rows


def test_project_lists_its_parameters(features: mq.Project) -> None:
    params = features.parameters
    assert sorted(params) == ["min_amount", "orders.fx_rate", "region", "statuses"]
    assert params["statuses"].multiple and params["statuses"].default == ("completed",)
    assert params["region"].options_from_dimension == ("customers", "country")
    assert params["orders.fx_rate"].to_dict() == {
        "name": "orders.fx_rate",
        "label": "Exchange rate",
        "type": "number",
        "default": 1,
    }


@pytest.mark.parametrize("given", [None, 20, "7.5"])
def test_dimension_takes_the_value_or_the_default(
    features: mq.Project, fduck: duckdb.DuckDBPyConnection, given: Any
) -> None:
    body: dict[str, Any] = {"dimensions": ["orders_is_large"], "metrics": ["orders_order_count"]}
    if given is not None:
        body["parameters"] = {"min_amount": given}
    threshold = 10 if given is None else float(given)
    want = fduck.sql(
        "SELECT amount >= $t, COUNT(DISTINCT order_id) FROM main.orders GROUP BY 1",
        params={"t": threshold},
    ).fetchall()
    got = _rows(features, fduck, body)
    assert_same_rows(got, want, ["orders_is_large", "orders_order_count"])


def test_multiple_parameter_in_a_metric(
    features: mq.Project, fduck: duckdb.DuckDBPyConnection
) -> None:
    for chosen in (None, ["completed", "returned"], ["placed"]):
        body: dict[str, Any] = {"metrics": ["orders_revenue_in_statuses"]}
        kw = {"parameters": {"statuses": chosen}} if chosen else {}
        statuses = chosen or ["completed"]
        (want,) = fduck.execute(
            "SELECT SUM(amount) FROM main.orders WHERE list_contains($s, status)",
            {"s": statuses},
        ).fetchall()[0]
        (row,) = _rows(features, fduck, body, **kw)
        assert row["orders_revenue_in_statuses"] == pytest.approx(float(want))


def test_model_parameter_keyword_wins_over_query(
    features: mq.Project, fduck: duckdb.DuckDBPyConnection
) -> None:
    body = {"metrics": ["orders_revenue_local"], "parameters": {"orders.fx_rate": 3}}
    (row,) = _rows(features, fduck, body, parameters={"orders.fx_rate": 2})
    (total,) = fduck.execute("SELECT SUM(amount) FROM main.orders").fetchall()[0]
    assert row["orders_revenue_local"] == pytest.approx(float(total) * 2)
    compiled = features.compile(
        mq.MetricQuery.model_validate({"exploreName": "orders", **body}),
        parameters={"orders.fx_rate": 2},
    )
    assert dict(compiled.parameters) == {"orders.fx_rate": 2}
    assert compiled.to_dict()["parameters"] == {"orders.fx_rate": 2}


def test_explore_sql_filter_with_ld_spelling(
    features: mq.Project, fduck: duckdb.DuckDBPyConnection
) -> None:
    query = mq.MetricQuery(
        explore_name="large_orders",
        dimensions=["orders_status"],
        metrics=["orders_total_revenue"],
        parameters={"min_amount": 12},
    )
    want = fduck.sql(
        "SELECT status, ROUND(SUM(amount), 2) FROM main.orders "
        "WHERE amount >= 12 AND status NOT IN ('placed', 'returned') GROUP BY 1"
    ).fetchall()
    assert_same_rows(features.run(query, connection=fduck).rows, want, ["orders_status", *REVENUE])


def _country_is(value: str) -> dict[str, Any]:
    rule = {"id": "r", "target": {"fieldId": "customers_country"}, "operator": "equals"}
    return {"dimensions": {"id": "g", "and": [{**rule, "values": [value]}]}}


def test_filter_value_takes_the_parameter(
    features: mq.Project, fduck: duckdb.DuckDBPyConnection
) -> None:
    body = {"metrics": REVENUE, "filters": _country_is("${lightdash.parameters.region}")}
    (row,) = _rows(features, fduck, {**body, "parameters": {"region": "US"}})
    (want,) = fduck.execute(
        "SELECT ROUND(SUM(o.amount), 2) FROM main.orders o JOIN main.customers c "
        "USING (customer_id) WHERE c.country = 'US'"
    ).fetchall()[0]
    assert row["orders_total_revenue"] == pytest.approx(float(want))
    compiled = features.compile(
        mq.MetricQuery.model_validate({"exploreName": "orders", **body}),
        parameters={"region": "US"},
    )
    assert dict(compiled.parameters) == {"region": "US"}
    with pytest.raises(mq.QueryError, match="missing value for parameter 'region'") as err:
        features.compile(mq.MetricQuery.model_validate({"exploreName": "orders", **body}))
    assert err.value.context["parameter"] == "region"


def test_hostile_values_stay_literals(
    features: mq.Project, fduck: duckdb.DuckDBPyConnection
) -> None:
    body = {"metrics": ["orders_order_count"], "filters": _country_is("${ld.parameters.region}")}
    evil = "US' OR '1'='1"
    (row,) = _rows(features, fduck, {**body, "parameters": {"region": evil}})
    assert row["orders_order_count"] == 0


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"statuses": ["bogus"]}, "'bogus' of parameter 'statuses' is not one of its options"),
        ({"min_amount": "ten"}, "parameter 'min_amount' must be a number"),
        ({"min_amount": [1, 2]}, "parameter 'min_amount' takes one value, got 2"),
        ({"min_amount": True}, "parameter 'min_amount' must be a number"),
    ],
)
def test_bad_values_are_query_errors(
    features: mq.Project, values: dict[str, Any], message: str
) -> None:
    query = mq.MetricQuery(
        explore_name="orders",
        dimensions=["orders_is_large"],
        metrics=["orders_revenue_in_statuses"],
        parameters=values,
    )
    with pytest.raises(mq.QueryError, match=message):
        features.compile(query)


def test_cache_keys_on_parameter_values(features: mq.Project) -> None:
    query = mq.MetricQuery(explore_name="orders", dimensions=["orders_is_large"])
    one = features.compile(query, parameters={"min_amount": 1}).sql
    two = features.compile(query, parameters={"min_amount": 2}).sql
    assert one != two and ">= 1" in one and ">= 2" in two


QUOTED = """
models:
  - name: t
    meta:
      parameters:
        tier: {options: [gold, silver], default: gold}
    columns:
      - name: tier
        meta:
          dimension: {type: string}
          additional_dimensions:
            chosen:
              type: boolean
              sql: "${TABLE}.tier = '${lightdash.parameters.t.tier}'"
      - name: n
        meta:
          dimension: {type: number}
          metrics:
            total: {type: sum}
      - name: ghost
        meta:
          dimension:
            type: number
            sql: ${lightdash.parameters.nope} + 1
"""


def test_quoted_reference_custom_sql_and_unknown_names(tmp_path: Path) -> None:
    project = mq.load_project(make_project(tmp_path, {"models": QUOTED}))
    conn = duckdb.connect()
    conn.sql("CREATE TABLE main.t AS SELECT * FROM (VALUES ('gold', 1), ('silver', 2)) v(tier, n)")
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "t",
            "dimensions": ["t_chosen", "half"],
            "metrics": ["t_total"],
            "customDimensions": [
                {
                    "id": "half",
                    "name": "half",
                    "table": "t",
                    "type": "sql",
                    "sql": "${t.tier} = ${lightdash.parameters.t.tier}",
                    "dimensionType": "boolean",
                }
            ],
            "parameters": {"t.tier": "silver"},
        }
    )
    rows = project.run(query, connection=conn).rows
    # the YAML's quoted reference and the custom dimension's bare one take the same value
    assert sorted((r["t_chosen"], r["half"], r["t_total"]) for r in rows) == [
        (False, False, 1),
        (True, True, 2),
    ]
    default = query.model_copy(update={"parameters": None})
    rows = project.run(default, connection=conn).rows
    assert sorted((r["t_chosen"], r["half"], r["t_total"]) for r in rows) == [
        (False, False, 2),
        (True, True, 1),
    ]
    (error,) = project.explore("t").errors
    assert "no parameter 'nope'" in error.message and error.context["line"] == 20


def test_validate_runs_with_config_spotlight_section(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.lightdash_features.conftest import FEATURES

    main(["validate", str(FEATURES)])
    assert "lightdash.config.yml" not in capsys.readouterr().err  # spotlight: known, no warning


def test_templated_queries_keep_parameter_values(features: mq.Project) -> None:
    # The shape cache re-renders queries differing only in filter values: parameter values
    # (in YAML SQL and in filter values) must never be taken from an earlier query's SQL.
    for n, (status, amount) in enumerate([("a", 1), ("b", 2), ("c", 3), ("d", 4)]):
        rule = {"id": "r", "target": {"fieldId": "orders_status"}, "operator": "equals"}
        token = {"id": "t", "target": {"fieldId": "customers_country"}, "operator": "equals",
                 "values": ["${lightdash.parameters.region}"]}  # fmt: skip
        query = mq.MetricQuery.model_validate(
            {
                "exploreName": "orders",
                "dimensions": ["orders_is_large"],
                "metrics": ["orders_order_count"],
                "filters": {
                    "dimensions": {"id": "g", "and": [{**rule, "values": [status]}, token]}
                },
            }
        )
        sql = features.compile(query, parameters={"min_amount": amount, "region": f"R{n}"}).sql
        assert f">= {amount}" in sql and f"'{status}'" in sql and f"'R{n}'" in sql


@pytest.mark.parametrize("where", ["argument", "query"])
def test_a_misspelt_parameter_is_a_named_error_not_its_default(
    features: mq.Project, where: str
) -> None:
    """`min_amont` would otherwise leave `min_amount` at its default: wrong numbers, no error."""
    body: dict[str, Any] = {"dimensions": ["orders_is_large"], "metrics": ["orders_order_count"]}
    kw: dict[str, Any] = {}
    if where == "query":
        body["parameters"] = {"min_amont": 20}
    else:
        kw["parameters"] = {"min_amont": 20}
    query = mq.MetricQuery.model_validate({"exploreName": "orders", **body})
    with pytest.raises(mq.QueryError) as info:
        features.compile(query, **kw)
    assert info.value.context["parameter"] == "min_amont"
    assert "min_amount" in (info.value.hint or "")
    with pytest.raises(mq.QueryError):
        features.explain(query, **kw)
    with pytest.raises(mq.QueryError):
        features.compile_totals(query, **kw)


def test_a_parameter_of_another_model_passes(features: mq.Project) -> None:
    """A dashboard sends its parameters to every tile: a defined name this explore does not
    use changes nothing."""
    query = mq.MetricQuery(explore_name="orders", metrics=["orders_order_count"])
    plain = features.compile(query).sql
    assert features.compile(query, parameters={"region": "US", "statuses": ["placed"]}).sql == plain
