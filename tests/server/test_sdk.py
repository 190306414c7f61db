"""The official `lightdash` SDK from PyPI, unmodified, against the server: the same numbers as
`project.run`. CI installs the SDK (`.[dev]`); without it this module is skipped, saying so."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import metricql as mq
from tests.server.conftest import SAMPLE_UUID, Live

lightdash = pytest.importorskip(
    "lightdash", reason="the official Lightdash SDK is not installed: pip install lightdash"
)
pd = pytest.importorskip("pandas", reason="the SDK's DataFrames need pandas")


@pytest.fixture(scope="module")
def client(live: Live) -> Any:
    return lightdash.Client(
        instance_url=live.url, access_token="admin-token", project_uuid=SAMPLE_UUID
    )


@pytest.fixture(scope="module")
def project(live: Live) -> mq.Project:
    return live.projects[SAMPLE_UUID]


def _by_label(result: mq.QueryResult) -> list[dict[str, Any]]:
    """Library rows keyed as the SDK keys records: by field label, raw JSON values."""
    return [{f.label: mq.lightdash_raw(row[f.id]) for f in result.fields} for row in result.rows]


def test_sdk_lists_models_and_their_fields(client: Any, project: mq.Project) -> None:
    models = client.list_models()
    assert sorted(m.name for m in models) == sorted(project.explores)
    orders = client.get_model("orders")
    assert orders.label == "Orders" and orders.schema_name == "main"
    table = project.explore("orders").tables["orders"]
    assert {d.name for d in orders.list_dimensions()} == set(table.dimensions)
    assert {m.name for m in orders.list_metrics()} == set(table.metrics)


def _sdk_query(client: Any) -> Any:
    m = client.get_model("orders")
    return m.query(
        dimensions=[m.dimensions.status, m.dimensions.order_date_month],
        metrics=[m.metrics.order_count, m.metrics.total_revenue],
        filters=(m.dimensions.status != "returned") & (m.dimensions.order_date >= "2024-01-01"),
        sort=[
            m.dimensions.order_date_month.asc(),
            m.metrics.order_count.desc(),
            m.dimensions.status.asc(),  # no ties: both runs give one order
        ],
        limit=40,
    )


LIBRARY_QUERY = mq.MetricQuery.model_validate(
    {
        "exploreName": "orders",
        "dimensions": ["orders_status", "orders_order_date_month"],
        "metrics": ["orders_order_count", "orders_total_revenue"],
        "filters": {
            "dimensions": {
                "and": [
                    {
                        "target": {"fieldId": "orders_status"},
                        "operator": "notEquals",
                        "values": ["returned"],
                    },
                    {
                        "target": {"fieldId": "orders_order_date"},
                        "operator": "greaterThanOrEqual",
                        "values": ["2024-01-01"],
                    },
                ]
            }
        },
        "sorts": [
            {"fieldId": "orders_order_date_month", "descending": False},
            {"fieldId": "orders_order_count", "descending": True},
            {"fieldId": "orders_status", "descending": False},
        ],
        "limit": 40,
    }
)


def test_sdk_query_sql_is_the_library_sql(client: Any, project: mq.Project) -> None:
    assert _sdk_query(client).compile() == project.compile(LIBRARY_QUERY).sql


def test_sdk_records_and_dataframe_equal_project_run(client: Any, project: mq.Project) -> None:
    want = project.run(LIBRARY_QUERY)
    assert 10 < len(want.rows) <= 40
    records = _sdk_query(client).to_records()
    assert records == _by_label(want)
    frame = _sdk_query(client).to_df()
    assert list(frame.columns) == [f.label for f in want.fields]
    expected = pd.DataFrame(_by_label(want))
    pd.testing.assert_frame_equal(frame, expected)
    months = [dt.date.fromisoformat(r["Order date month"][:10]) for r in records]
    assert months == [r["orders_order_date_month"] for r in want.rows]


def test_sdk_pages_through_large_results(client: Any, project: mq.Project) -> None:
    m = client.get_model("orders")
    query = m.query(
        dimensions=[m.dimensions.order_id],
        metrics=[m.metrics.order_count],
        sort=m.dimensions.order_id.asc(),
        limit=1500,
    )
    result = query.execute()
    assert result.total_pages >= 1
    want = project.run(
        mq.MetricQuery(
            explore_name="orders",
            dimensions=["orders_order_id"],
            metrics=["orders_order_count"],
            sorts=[{"field_id": "orders_order_id"}],
            limit=1500,
        )
    )
    assert len(want.rows) > 1000  # more than one page of the server's 1,000
    assert result.to_records() == _by_label(want)


def test_sdk_runs_sql(client: Any, project: mq.Project) -> None:
    sql = "SELECT payment_method, COUNT(*) AS n FROM main.payments GROUP BY 1 ORDER BY 1"
    got = client.sql(sql).to_records()
    assert got == [
        {k: mq.lightdash_raw(v) for k, v in r.items()} for r in project.run_sql(sql).rows
    ]


def test_sdk_gets_lightdashs_error_envelope_for_a_bad_field(client: Any) -> None:
    import httpx

    m = client.get_model("orders")
    with pytest.raises(
        httpx.HTTPStatusError
    ) as info:  # the SDK raises for any 4xx, as on Lightdash
        m.query(metrics=["orders_nope"], limit=5).to_records()
    body = info.value.response.json()
    assert body["error"]["name"] == "FieldReferenceError" and body["error"]["statusCode"] == 400
