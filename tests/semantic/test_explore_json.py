"""Explores → Lightdash's compiled Explore JSON → `load_explores_json` → the same SQL and rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

import metricql as mq
from tests.conftest import SAMPLE, assert_same_rows

QUERIES = sorted((SAMPLE / "queries").glob("*.json"))
EXTRA = [
    {  # interval children, number metrics over metrics, metric filters, joins
        "exploreName": "orders",
        "dimensions": ["orders_order_date_week", "customers_country"],
        "metrics": ["orders_average_order_value", "orders_returned_count", "payments_total_amount"],
        "filters": {
            "dimensions": {
                "id": "g",
                "and": [
                    {
                        "id": "r",
                        "target": {"fieldId": "orders_status"},
                        "operator": "notEquals",
                        "values": ["cancelled"],
                    }
                ],
            }
        },
        "sorts": [{"fieldId": "orders_order_date_week"}, {"fieldId": "customers_country"}],
        "limit": 5000,  # all rows: a limit would cut among ties differently on each run
    },
    {  # custom dimensions, table calculations and an additional metric on a loaded explore
        "exploreName": "orders",
        "dimensions": ["amount_bin"],
        "metrics": ["orders_order_count", "orders_gift_revenue"],
        "customDimensions": [
            {
                "id": "amount_bin",
                "name": "Amount",
                "table": "orders",
                "type": "bin",
                "dimensionId": "orders_amount",
                "binType": "fixed_width",
                "binWidth": 50,
            }
        ],
        "additionalMetrics": [
            {"table": "orders", "name": "gift_revenue", "type": "sum", "sql": "${TABLE}.amount"}
        ],
        "tableCalculations": [
            {
                "name": "share",
                "displayName": "Share",
                "sql": "${orders.order_count} / total(${orders.order_count})",
            }
        ],
        "sorts": [{"fieldId": "amount_bin"}],
        "limit": 100,
    },
]


@pytest.fixture(scope="module")
def loaded(project: mq.Project) -> mq.Project:
    data = [mq.explore_to_dict(e) for e in project.explores.values()]
    text = json.dumps(data)  # through real JSON text, as over HTTP
    return project.with_explores(mq.load_explores_json(text))


def _queries() -> list[Any]:
    return [json.loads(p.read_text()) for p in QUERIES] + EXTRA


@pytest.mark.parametrize("body", _queries(), ids=lambda b: "+".join(b.get("metrics", []))[:60])
@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "bigquery"])
def test_round_trip_compiles_to_the_same_sql(
    project: mq.Project, loaded: mq.Project, body: dict[str, Any], dialect: str
) -> None:
    query = mq.MetricQuery.model_validate(body)
    now = __import__("datetime").datetime(2025, 1, 15, 12, 0)
    want = project.compile(query, dialect=dialect, now=now).sql
    assert loaded.compile(query, dialect=dialect, now=now).sql == want


@pytest.mark.parametrize("body", _queries(), ids=lambda b: "+".join(b.get("metrics", []))[:60])
def test_round_trip_gives_the_same_rows(
    project: mq.Project, loaded: mq.Project, duck: duckdb.DuckDBPyConnection, body: dict[str, Any]
) -> None:
    query = mq.MetricQuery.model_validate(body)
    want = project.run(query, connection=duck)
    got = loaded.run(query, connection=duck)
    columns = list(want.columns)
    assert_same_rows(got.rows, [[r[c] for c in columns] for r in want.rows], columns)


def test_second_round_trip_is_a_fixed_point(project: mq.Project, loaded: mq.Project) -> None:
    first = [mq.explore_to_dict(e) for e in project.explores.values()]
    second = [mq.explore_to_dict(e) for e in loaded.explores.values()]
    assert second == first


def _lightdash_explore() -> dict[str, Any]:
    """A compiled Explore as Lightdash writes it: templates in `sql`, resolved `compiledSql`."""
    dims = {
        "status": {
            "type": "string",
            "name": "status",
            "sql": "${TABLE}.status",
            "compiledSql": '"orders".status',
        },
        "order_date": {
            "type": "date",
            "name": "order_date",
            "sql": "${TABLE}.order_date",
            "compiledSql": '"orders".order_date',
            "isIntervalBase": True,
        },
        "order_date_month": {
            "type": "date",
            "name": "order_date_month",
            "sql": "${TABLE}.order_date",
            "compiledSql": "DATE_TRUNC('MONTH', \"orders\".order_date)",
            "timeInterval": "MONTH",
            "timeIntervalBaseDimensionName": "order_date",
        },
        "amount": {
            "type": "number",
            "name": "amount",
            "sql": "${TABLE}.amount",
            "compiledSql": '"orders".amount',
        },
    }
    metrics = {
        "revenue": {
            "type": "sum",
            "name": "revenue",
            "sql": "${amount}",
            "compiledSql": 'SUM("orders".amount)',
        },
        "completed_count": {
            "type": "count",
            "name": "completed_count",
            "sql": "${TABLE}.order_id",
            "filters": [
                {
                    "id": "f",
                    "target": {"fieldRef": "status"},
                    "operator": "equals",
                    "values": ["completed"],
                }
            ],
        },
        "revenue_per_order": {
            "type": "number",
            "name": "revenue_per_order",
            "sql": "${revenue} / NULLIF(${completed_count}, 0)",
        },
    }
    table = {
        "name": "orders",
        "label": "Orders",
        "sqlTable": '"main"."orders"',
        "dimensions": dims,
        "metrics": metrics,
    }
    return {
        "name": "orders",
        "label": "Orders",
        "baseTable": "orders",
        "joinedTables": [],
        "tables": {"orders": table},
        "targetDatabase": "duckdb",
    }


def test_lightdash_written_json_runs_like_hand_written_sql(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    errored = {"name": "broken", "label": "Broken", "errors": [{"type": "X", "message": "m"}]}
    explores = mq.load_explores_json([_lightdash_explore(), errored])
    assert sorted(explores) == ["orders"]  # the ExploreError entry is skipped
    served = project.with_explores(explores)
    query = mq.MetricQuery(
        explore_name="orders",
        dimensions=["orders_order_date_month"],
        metrics=["orders_revenue", "orders_completed_count", "orders_revenue_per_order"],
    )
    want = duck.execute(
        """SELECT DATE_TRUNC('month', order_date)::DATE, SUM(amount),
                  COUNT(CASE WHEN status = 'completed' THEN order_id END),
                  SUM(amount) / NULLIF(COUNT(CASE WHEN status = 'completed' THEN order_id END), 0)
           FROM main.orders GROUP BY 1"""
    ).fetchall()
    got = served.run(query, connection=duck).rows
    assert_same_rows(got, want, [*query.dimensions, *query.metrics])


BAD = [
    ("not json", "[{"),
    ("not a list", 42),
    ("missing tables", [{"name": "x", "baseTable": "x"}]),
    ("base table missing", [{"name": "x", "baseTable": "y", "tables": {}}]),
    ("bad dialect", [{**_lightdash_explore(), "targetDatabase": "oracle9"}]),
    (
        "bad type",
        [
            {
                **_lightdash_explore(),
                "tables": {
                    "orders": {
                        **_lightdash_explore()["tables"]["orders"],
                        "dimensions": {"s": {"type": "text", "name": "s", "compiledSql": "1"}},
                    }
                },
            }
        ],
    ),
    (
        "statement as sql",
        [
            {
                **_lightdash_explore(),
                "tables": {
                    "orders": {
                        **_lightdash_explore()["tables"]["orders"],
                        "dimensions": {
                            "s": {"type": "string", "name": "s", "compiledSql": "DROP TABLE x"}
                        },
                    }
                },
            }
        ],
    ),
    (
        "dangling ref",
        [
            {
                **_lightdash_explore(),
                "tables": {
                    "orders": {
                        **_lightdash_explore()["tables"]["orders"],
                        "metrics": {"m": {"type": "sum", "name": "m", "sql": "${nope}"}},
                    }
                },
            }
        ],
    ),
    (
        "bad relation",
        [
            {
                **_lightdash_explore(),
                "tables": {
                    "orders": {**_lightdash_explore()["tables"]["orders"], "sqlTable": "1 + 1"}
                },
            }
        ],
    ),
    (
        "bad filter target",
        [
            {
                **_lightdash_explore(),
                "tables": {
                    "orders": {
                        **_lightdash_explore()["tables"]["orders"],
                        "metrics": {
                            "m": {
                                "type": "count",
                                "name": "m",
                                "sql": "${TABLE}.id",
                                "filters": [
                                    {
                                        "target": {"fieldRef": "orders.nope"},
                                        "operator": "equals",
                                        "values": [1],
                                    }
                                ],
                            }
                        },
                    }
                },
            }
        ],
    ),
    ("missing file", Path("/nonexistent/explores.json")),
]


@pytest.mark.parametrize(("case", "source"), BAD, ids=[c for c, _ in BAD])
def test_bad_explore_json_raises_a_named_error(case: str, source: Any) -> None:
    with pytest.raises(mq.ProjectError) as info:
        mq.load_explores_json(source)
    assert info.value.code in ("project_error", "project_errors") and info.value.hint


def _decorated() -> dict[str, Any]:
    """`_lightdash_explore()` with the descriptive keys Lightdash writes besides the ones read."""
    explore = _lightdash_explore()
    explore.update(tags=["core"], groupLabel="Sales", ymlPath="models/orders.yml", type="default")
    table = explore["tables"]["orders"]
    table.update(
        database="db",
        schema="main",
        orderFieldsBy="LABEL",
        groupDetails={},
        lineageGraph={},
        source={"path": "models/orders.yml", "content": ""},
    )
    for dim in table["dimensions"].values():
        dim.update(fieldType="dimension", table="orders", tableLabel="Orders", urls=[])
        dim.update(tablesReferences=["orders"], tablesRequiredAttributes={})
    for metric in table["metrics"].values():
        metric.update(fieldType="metric", table="orders", formatOptions={"type": "default"})
    return explore


def test_descriptive_lightdash_keys_are_accepted() -> None:
    plain = mq.load_explores_json([_lightdash_explore()])["orders"]
    decorated = mq.load_explores_json([_decorated()])["orders"]
    assert sorted(decorated.dimensions) == sorted(plain.dimensions)
    assert sorted(decorated.metrics) == sorted(plain.metrics)


UNKNOWN = [
    ("explore", lambda e: e, "pre_aggregates", "pre_aggregates"),
    (
        "table",
        lambda e: e["tables"]["orders"],
        "rowLevelSecurity",
        "tables.orders.rowLevelSecurity",
    ),
    (
        "dimension",
        lambda e: e["tables"]["orders"]["dimensions"]["status"],
        "maskingPolicy",
        "tables.orders.dimensions.status.maskingPolicy",
    ),
    (
        "metric",
        lambda e: e["tables"]["orders"]["metrics"]["revenue"],
        "sqlFilter",
        "tables.orders.metrics.revenue.sqlFilter",
    ),
]


@pytest.mark.parametrize(("where", "node", "key", "path"), UNKNOWN, ids=[u[0] for u in UNKNOWN])
def test_an_unknown_key_is_a_named_error_not_dropped(
    where: str, node: Any, key: str, path: str
) -> None:
    explore = _decorated()
    node(explore)[key] = {"anything": True}
    with pytest.raises(mq.ProjectError) as info:
        mq.load_explores_json([explore])
    assert path in info.value.message and info.value.hint
    assert info.value.context["keys"] == [path]


def test_an_unknown_join_key_is_a_named_error(project: mq.Project) -> None:
    data = mq.explore_to_dict(project.explores["orders"])
    data["joinedTables"][0]["joinFilter"] = "x"
    with pytest.raises(mq.ProjectError, match=r"joinedTables\.0\.joinFilter"):
        mq.load_explores_json([data])


def test_one_explore_with_an_unknown_key_names_that_explore(project: mq.Project) -> None:
    good = [mq.explore_to_dict(e) for e in project.explores.values()]
    bad = _decorated()
    bad["name"] = "orders_v2"
    bad["tables"]["orders"]["anyNewAccessRule"] = {"x": "y"}
    with pytest.raises(mq.ProjectError) as info:
        mq.load_explores_json([*good, bad])
    assert info.value.context["explore"] == "orders_v2"
