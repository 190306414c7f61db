"""Lightdash explore JSON round trip with parameters: a model's definitions travel in its table
(`tables[t].parameters`, as Lightdash's compiled tables hold them); references stay
`${lightdash.parameters.…}` text. The project's own (lightdash.config.yml) are not part of an
explore's JSON, so a query needing one on loaded explores is a named QueryError."""

from __future__ import annotations

import json

import duckdb
import pytest

import metricql as mq


def _loaded(features: mq.Project) -> mq.Project:
    data = json.dumps([mq.explore_to_dict(features.explore("orders"))])
    return features.with_explores(mq.load_explores_json(data))


def test_model_parameters_round_trip(
    features: mq.Project, fduck: duckdb.DuckDBPyConnection
) -> None:
    table = mq.explore_to_dict(features.explore("orders"))["tables"]["orders"]
    assert table["parameters"] == {"fx_rate": {"label": "Exchange rate", "type": "number",
                                               "default": 1}}  # fmt: skip
    assert "__metricql" not in json.dumps(table)  # markers never leak into the JSON
    assert "${lightdash.parameters.min_amount}" in table["dimensions"]["is_large"]["sql"]
    loaded = _loaded(features)
    assert dict(loaded.explore("orders").parameters) == {
        "orders.fx_rate": features.parameters["orders.fx_rate"]
    }
    query = mq.MetricQuery(explore_name="orders", metrics=["orders_revenue_local"])
    (total,) = fduck.sql("SELECT SUM(amount) FROM main.orders").fetchall()[0]
    for values, factor in (({}, 1), ({"orders.fx_rate": 2.5}, 2.5)):
        (row,) = loaded.run(query, connection=fduck, parameters=values).rows
        assert row["orders_revenue_local"] == pytest.approx(float(total) * factor)
        assert (
            loaded.compile(query, parameters=values).sql
            == features.compile(query, parameters=values).sql
        )


def test_project_parameter_on_loaded_explores_is_named(features: mq.Project) -> None:
    query = mq.MetricQuery(explore_name="orders", dimensions=["orders_is_large"])
    with pytest.raises(mq.QueryError, match="parameter 'min_amount' is not defined") as err:
        _loaded(features).compile(query, parameters={"min_amount": 5})
    assert err.value.context["parameter"] == "min_amount"
