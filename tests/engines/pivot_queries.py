"""Engine queries for issue 14: pivots (every aggregation, one and two group-by columns, both
limits, a value sort), date zoom and synthesised intervals. Merged into `queries.QUERIES`."""

from __future__ import annotations

from typing import Any

import metricql as mq


def _pivot(
    dimensions: list[str], metrics: list[str], config: dict[str, Any], **extra: Any
) -> mq.MetricQuery:
    return mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "dimensions": dimensions,
            "metrics": metrics,
            "pivotConfiguration": config,
            **extra,
        }
    )


def _refs(*ids: str) -> list[dict[str, str]]:
    return [{"reference": i} for i in ids]


def _value(reference: str, aggregation: str) -> dict[str, str]:
    return {"reference": reference, "aggregation": aggregation}


YEAR_STATUS = ["orders_order_date_year", "orders_status"]
REVENUE = "orders_total_revenue"


def pivot_queries() -> dict[str, mq.MetricQuery]:
    """Pivots: sorted by a value with both limits hit, two group-bys, every aggregation."""
    by_year = {
        "indexColumn": _refs("orders_order_date_year"),
        "groupByColumns": _refs("orders_status"),
    }
    out = {
        "pivot_value_sort_both_limits": _pivot(
            YEAR_STATUS,
            [REVENUE],
            {
                **by_year,
                "valuesColumns": [_value(REVENUE, "sum")],
                "sortBy": [{"reference": REVENUE, "direction": "DESC"}],
                "columnLimit": 3,
            },
            limit=2,
        ),
        "pivot_two_group_bys_avg": _pivot(
            ["orders_status", "orders_order_date_year", "orders_is_gift", "orders_order_date_day"],
            ["orders_order_count"],
            {
                "indexColumn": _refs("orders_status"),
                "groupByColumns": _refs("orders_order_date_year", "orders_is_gift"),
                "valuesColumns": [_value("orders_order_count", "avg")],
                "subtotals": True,  # column subtotals: per status and year
            },
        ),
        "pivot_no_group_by_count": _pivot(
            ["customers_country", "orders_status"],
            ["orders_order_count"],
            {
                "indexColumn": _refs("customers_country"),
                "valuesColumns": [_value("orders_order_count", "count")],
            },
        ),
    }
    out["pivot_totals_and_subtotals"] = _pivot(
        ["orders_order_date_year", "orders_is_gift", "orders_status", "orders_order_date_day"],
        ["orders_order_count"],
        {
            "indexColumn": _refs("orders_order_date_year", "orders_is_gift"),
            "groupByColumns": _refs("orders_status"),
            "valuesColumns": [_value("orders_order_count", "avg")],
            "rowTotals": True,
            "columnTotals": True,
            "subtotals": True,
            "columnLimit": 4,
        },
        limit=5,
    )
    for aggregation in ("min", "max", "any"):
        out[f"pivot_cells_{aggregation}"] = _pivot(
            YEAR_STATUS,
            [REVENUE],
            {
                **by_year,
                "valuesColumns": [_value(REVENUE, aggregation)],
                "sortBy": [{"reference": "orders_status", "direction": "DESC"}],
            },
        )
    return out


def grain_queries() -> dict[str, mq.MetricQuery]:
    """Date zoom on a date and a timestamp base, and intervals the YAML did not list."""

    def orders(dimensions: list[str], **extra: Any) -> mq.MetricQuery:
        return mq.MetricQuery.model_validate(
            {
                "exploreName": "orders",
                "dimensions": dimensions,
                "metrics": ["orders_order_count"],
                **extra,
            }
        )

    return {
        "zoom_date_to_quarter": orders(
            ["orders_order_date_day"], dateZoom={"granularity": "Quarter"}
        ),
        "zoom_timestamp_to_hour": orders(
            ["orders_order_date_week", "orders_ordered_at_day"],
            dateZoom={"granularity": "Hour", "xAxisFieldId": "orders_ordered_at_day"},
        ),
        "synthesised_minute_and_month": orders(
            ["orders_ordered_at_minute", "customers_signup_date_month"]
        ),
    }
