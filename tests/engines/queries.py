"""Representative metric queries over the sample project, run on every engine and kept as goldens.

They cover every metric type, every time interval of orders.order_date, orders.ordered_at and
payments.created_at, the joins (aliased `referrer`, the inner-joined payments explore and its
sql_filter), sorts and limits, and every filter operator for every field type, with hostile
strings (`O'Brien`, `50%`, `a_b`, a backslash, an injection attempt). Relative date filters
are compiled against the fixed clock `NOW`, so every engine and every golden sees one window.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from itertools import count
from types import MappingProxyType
from typing import Any

import metricql as mq
from tests.conftest import SAMPLE
from tests.engines.pivot_queries import grain_queries, pivot_queries

NOW = datetime(2024, 6, 15, 12, 34, 56, tzinfo=timezone.utc)  # a Saturday inside the data

_ids = count()


def rule(field: str, operator: str, *values: Any, **extra: Any) -> dict[str, Any]:
    """A Lightdash filter rule; `extra` holds camelCase keys (settings, caseSensitive …)."""
    return {"id": f"r{next(_ids)}", "target": {"fieldId": field}, "operator": operator,
            "values": list(values), **extra}  # fmt: skip


def all_of(*items: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"g{next(_ids)}", "and": list(items)}


def any_of(*items: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"g{next(_ids)}", "or": list(items)}


def unit(name: str, *, completed: bool = False) -> dict[str, Any]:
    return {"settings": {"unitOfTime": name, "completed": completed}}


def query(
    explore: str,
    dimensions: tuple[str, ...] = (),
    metrics: tuple[str, ...] = (),
    *,
    where: dict[str, Any] | None = None,
    having: dict[str, Any] | None = None,
    sorts: tuple[tuple[str, bool], ...] = (),
    nulls_first: bool | None = None,
    limit: int | None = None,
    timezone_name: str | None = None,
) -> mq.MetricQuery:
    """A query; `where` (dimension filters) and `having` (metric filters) take a rule or group."""

    def group(item: dict[str, Any] | None) -> dict[str, Any] | None:
        is_rule = item is not None and "and" not in item and "or" not in item
        return all_of(item) if is_rule and item is not None else item

    return mq.MetricQuery.model_validate({
        "exploreName": explore,
        "dimensions": list(dimensions),
        "metrics": list(metrics),
        "filters": {"dimensions": group(where), "metrics": group(having)},
        "sorts": [{"fieldId": f, "descending": d, "nullsFirst": nulls_first} for f, d in sorts],
        "limit": limit,
        "timezone": timezone_name,
    })  # fmt: skip


ORDERS_METRICS = (
    "orders_order_count", "orders_returned_count", "orders_unique_customer_count",
    "orders_total_revenue", "orders_completed_revenue", "orders_average_amount",
    "orders_min_amount", "orders_max_amount", "orders_p90_amount", "orders_median_amount",
    "orders_total_shipping", "orders_average_order_value", "orders_average_order_value_rounded",
    "orders_return_rate", "orders_first_order_date", "orders_last_ordered_at",
    "orders_order_volume_band", "orders_has_returns",
)  # fmt: skip
CUSTOMERS_METRICS = (
    "customers_customer_count", "customers_vip_customer_count", "customers_vip_share",
    "customers_average_lifetime_score", "customers_median_lifetime_score",
    "customers_max_lifetime_score", "customers_first_signup_date",
)  # fmt: skip
ORDER_ITEMS_METRICS = (
    "order_items_item_count", "order_items_product_count", "order_items_total_quantity",
    "order_items_average_unit_price", "order_items_item_revenue",
)  # fmt: skip
PAYMENTS_METRICS = (
    "payments_payment_count", "payments_failed_payment_count", "payments_paid_order_count",
    "payments_total_amount", "payments_average_payment", "payments_largest_payment",
    "payments_failure_rate",
)  # fmt: skip
ORDER_DATE_INTERVALS = (
    "day", "week", "month", "quarter", "year", "day_of_week_index", "day_of_month_num",
    "day_of_year_num", "week_num", "month_num", "quarter_num", "year_num",
    "day_of_week_name", "month_name", "quarter_name",
)  # fmt: skip
ORDERED_AT_INTERVALS = ("raw", "day", "week", "month", "quarter", "year")
CREATED_AT_INTERVALS = (
    "raw", "hour", "minute", "second", "millisecond", "hour_of_day_num", "minute_of_hour_num",
    "day",
)  # fmt: skip

_COUNT = ("orders_order_count",)
_CUSTOMERS = ("customers_customer_count",)
_PAYMENTS = ("payments_payment_count",)


def _metric_queries() -> dict[str, mq.MetricQuery]:
    return {
        "metrics_orders_by_status": query("orders", ("orders_status",), ORDERS_METRICS),
        "metrics_orders_total": query("orders", (), ORDERS_METRICS),
        "metrics_orders_total_of_no_rows": query(  # one row: COUNT 0, SUM, MIN … NULL
            "orders", (), ORDERS_METRICS, where=rule("orders_status", "equals", "no such status")
        ),
        "metrics_customers_by_country": query(
            "customers", ("customers_country",), CUSTOMERS_METRICS
        ),
        "metrics_order_items_by_product": query(
            "orders", ("order_items_product",), ORDER_ITEMS_METRICS
        ),
        "metrics_payments_by_method_status": query(
            "payments", ("payments_payment_method", "payments_status"), PAYMENTS_METRICS
        ),
    }


def _interval_queries() -> dict[str, mq.MetricQuery]:
    out = {"interval_order_date": query("orders", ("orders_order_date",), _COUNT)}
    for ti in ORDER_DATE_INTERVALS:
        out[f"interval_order_date_{ti}"] = query("orders", (f"orders_order_date_{ti}",), _COUNT)
    for ti in ORDERED_AT_INTERVALS:
        out[f"interval_ordered_at_{ti}"] = query("orders", (f"orders_ordered_at_{ti}",), _COUNT)
    for ti in CREATED_AT_INTERVALS:
        out[f"interval_created_at_{ti}"] = query(
            "payments", (f"payments_created_at_{ti}",), _PAYMENTS
        )
    out["interval_order_date_all"] = query(  # one golden to review every interval at once
        "orders", tuple(f"orders_order_date_{ti}" for ti in ORDER_DATE_INTERVALS), _COUNT
    )
    out["interval_created_at_all"] = query(
        "payments", tuple(f"payments_created_at_{ti}" for ti in CREATED_AT_INTERVALS), _PAYMENTS
    )
    out["interval_customers_created_at_week"] = query(
        "customers", ("customers_created_at_week",), _CUSTOMERS
    )
    return out


def _join_queries() -> dict[str, mq.MetricQuery]:
    revenue = ("orders_order_count", "orders_total_revenue")
    return {
        "join_customers": query("orders", ("customers_country",), revenue),
        "join_referrer": query(
            "orders", ("referrer_country", "referrer_first_name", "referrer_email"), revenue
        ),
        "join_payments_inner_with_sql_filter": query(
            "payments",
            ("orders_status",),
            ("payments_total_amount", "payments_payment_count", "orders_order_count"),
        ),
        "join_payments_hidden_customers": query(
            "payments", ("orders_order_country", "customers_is_vip"), ("payments_total_amount",)
        ),
        "join_orders_to_payments_fanout": query(
            "orders",
            ("payments_payment_method",),
            ("payments_total_amount", "payments_payment_count", "orders_order_count"),
        ),
        # fan-out SQL narrowed (compiler/sql/narrow.py): payments INNER JOINed and LEFT JOINed
        # back; orders read deduplicated per (status, customer) with partial counts; a
        # count_distinct moved to orders' own piece next to payments' INNER piece
        "join_orders_status_payments_inner": query(
            "orders",
            ("orders_status",),
            ("orders_total_revenue", "payments_total_amount", "payments_payment_count"),
        ),
        "join_orders_customers_partial_counts": query(
            "orders",
            ("orders_status",),
            ("customers_average_lifetime_score", "orders_order_count"),
        ),
        "join_count_distinct_with_fanout": query(
            "orders",
            ("customers_country",),
            ("orders_unique_customer_count", "orders_total_revenue", "payments_total_amount"),
        ),
        "join_customers_to_orders": query(
            "customers",
            ("customers_country",),
            ("customers_customer_count", "orders_total_revenue", "orders_order_count"),
        ),
        "dims_sql_dimensions": query(
            "orders",
            ("orders_amount_bucket", "orders_is_big_order", "orders_order_country"),
            ("orders_order_count", "orders_total_revenue"),
        ),
        "dims_full_name_concat": query(
            "customers", ("customers_full_name", "customers_email"), _CUSTOMERS
        ),
        "dims_only": query("orders", ("orders_status", "orders_is_gift")),
        "dims_amount_rounded": query("orders", ("orders_amount_rounded",), _COUNT),
        "dims_line_total": query(
            "orders", ("order_items_line_total",), ("order_items_item_count",)
        ),
    }


def _sort_queries() -> dict[str, mq.MetricQuery]:
    return {
        "sort_unicode_names_limit": query(
            "customers",
            ("customers_last_name",),
            _CUSTOMERS,
            sorts=(("customers_last_name", False),),
            limit=15,
        ),
        "sort_string_desc_with_nulls": query(
            "orders", ("orders_discount_code",), _COUNT, sorts=(("orders_discount_code", True),)
        ),
        "sort_nulls_first": query(
            "orders",
            ("orders_status",),
            _COUNT,
            sorts=(("orders_status", False),),
            nulls_first=True,
        ),
        "sort_nulls_last_desc": query(
            "customers",
            ("customers_country",),
            _CUSTOMERS,
            sorts=(("customers_country", True),),
            nulls_first=False,
        ),
        "sort_ties_cut_by_limit": query(
            "orders",
            ("orders_status", "orders_is_gift"),
            _COUNT,
            sorts=(("orders_is_gift", False),),
            limit=4,
        ),
        "sort_metric_then_dimension": query(
            "customers",
            ("customers_country", "customers_is_vip"),
            _CUSTOMERS,
            sorts=(("customers_customer_count", True), ("customers_country", False)),
            limit=6,
        ),
        "sort_default_date_desc": query(
            "orders", ("orders_order_date_week", "orders_status"), _COUNT, limit=30
        ),
        "sort_day_names": query(
            "orders",
            ("orders_order_date_day_of_week_name",),
            _COUNT,
            sorts=(("orders_order_date_day_of_week_name", False),),
        ),
        "limit_zero": query("orders", ("orders_status",), _COUNT, limit=0),
    }


def _string_filters() -> dict[str, mq.MetricQuery]:
    s = "orders_status"
    code = "orders_discount_code"
    last = "customers_last_name"
    first = "customers_first_name"
    country = "customers_country"
    email = "customers_email"
    cases: dict[str, tuple[str, dict[str, Any]]] = {
        "equals": (s, rule(s, "equals", "completed")),
        "equals_many": (s, rule(s, "equals", "completed", "shipped")),
        "equals_include_null": (s, rule(s, "equals", "returned", includeNull=True)),
        "not_equals": (s, rule(s, "notEquals", "placed", "returned")),
        "is_null": (s, rule(code, "isNull")),
        "not_null": (code, rule(code, "notNull")),
        "equals_quote": (last, rule(last, "equals", "O'Brien")),
        "equals_injection": (code, rule(code, "equals", "'); DROP TABLE orders; --")),
        "equals_backslash": (last, rule(last, "equals", "Slash\\Name")),
        "equals_double_quote": (first, rule(first, "equals", 'Jo "JJ"')),
        "equals_comment": (last, rule(last, "equals", "Comment -- /* not a comment */")),
        "starts_with_quote": (last, rule(last, "startsWith", "O'", "D'")),
        "starts_with_percent": (code, rule(code, "startsWith", "50%")),
        "ends_with_unicode": (last, rule(last, "endsWith", "ström")),
        "ends_with_quote_s": (code, rule(code, "endsWith", "'s")),
        "include_percent": (code, rule(code, "include", "%")),
        "include_underscore": (email, rule(email, "include", "_")),
        "include_a_b": (code, rule(code, "include", "a_b")),
        "include_backslash": (last, rule(last, "include", "\\")),
        "include_empty_is_noop": (code, rule(code, "include", "")),
        "does_not_include": (code, rule(code, "doesNotInclude", "%", "_")),
        "case_insensitive_field_equals": (country, rule(country, "equals", "Germany")),
        "case_insensitive_field_starts": (country, rule(country, "startsWith", "ger")),
        "case_sensitive_override": (
            country, rule(country, "equals", "germany", caseSensitive=True)
        ),
        "case_insensitive_unicode": (
            first, rule(first, "startsWith", "åsa", "zoë", "søren", caseSensitive=False)
        ),
        "case_insensitive_not_equals": (
            country, rule(country, "notEquals", "GERMANY", "sweden")
        ),
        "case_insensitive_does_not_include": (
            country, rule(country, "doesNotInclude", "UNITED")
        ),
    }  # fmt: skip
    out = {}
    for name, (dim, where) in cases.items():
        explore = "customers" if dim.startswith("customers") else "orders"
        metric = _CUSTOMERS if explore == "customers" else _COUNT
        out[f"filter_string_{name}"] = query(explore, (dim,), metric, where=where)
    return out


def _number_filters() -> dict[str, mq.MetricQuery]:
    amount = "orders_amount"
    score = "customers_lifetime_score"
    cases: dict[str, tuple[str, dict[str, Any]]] = {
        "equals": (amount, rule(amount, "equals", 10.7, 233.2)),
        "not_equals": (score, rule(score, "notEquals", 34.78)),
        "less_than": (amount, rule(amount, "lessThan", 25)),
        "less_than_or_equal": (amount, rule(amount, "lessThanOrEqual", 10.7)),
        "greater_than": (amount, rule(amount, "greaterThan", "1e2")),
        "greater_than_or_equal": (amount, rule(amount, "greaterThanOrEqual", 233.2)),
        "greater_than_negative": (amount, rule(amount, "greaterThan", -1)),
        "in_between": ("payments_amount", rule("payments_amount", "inBetween", 10, 20.5)),
        "not_in_between": (score, rule(score, "notInBetween", 100, 500)),
        "is_null": (score, rule(score, "isNull")),
        "not_null": (score, rule(score, "notNull")),
        "integer_column": ("customers_customer_id", rule("customers_customer_id", "lessThan", 9)),
        "sql_dimension": (amount, rule("orders_amount_rounded", "equals", 20, 21)),
    }  # fmt: skip
    out = {}
    for name, (dim, where) in cases.items():
        explore = dim.split("_")[0]
        metric = {"orders": _COUNT, "customers": _CUSTOMERS, "payments": _PAYMENTS}[explore]
        out[f"filter_number_{name}"] = query(explore, (dim,), metric, where=where)
    return out


def _boolean_filters() -> dict[str, mq.MetricQuery]:
    vip, gift, big = "customers_is_vip", "orders_is_gift", "orders_is_big_order"
    cases: dict[str, tuple[str, dict[str, Any]]] = {
        "true": (vip, rule(vip, "equals", True)),
        "false": (gift, rule(gift, "equals", False)),
        "string_value": (gift, rule(gift, "equals", "TRUE")),
        "not_equals": (vip, rule(vip, "notEquals", True)),
        "is_null": (gift, rule(gift, "isNull")),
        "not_null": (vip, rule(vip, "notNull")),
        "sql_dimension": (big, rule(big, "equals", True)),
        "sql_dimension_false": (big, rule(big, "notEquals", True)),
    }  # fmt: skip
    out = {}
    for name, (dim, where) in cases.items():
        explore = dim.split("_")[0]
        metric = _CUSTOMERS if explore == "customers" else _COUNT
        out[f"filter_boolean_{name}"] = query(explore, (dim,), metric, where=where)
    return out


def _date_filters() -> dict[str, mq.MetricQuery]:
    d = "orders_order_date"
    cases: dict[str, dict[str, Any]] = {
        "equals": rule(d, "equals", "2024-03-01", "2024-03-02"),
        "not_equals": rule(d, "notEquals", "2024-03-01"),
        "less_than": rule(d, "lessThan", "2023-02-01"),
        "less_than_or_equal": rule(d, "lessThanOrEqual", "2023-02-01"),
        "greater_than": rule(d, "greaterThan", "2025-06-01"),
        "greater_than_or_equal": rule(d, "greaterThanOrEqual", "2025-06-01T00:00:00Z"),
        "in_between": rule(d, "inBetween", "2024-02-27", "2024-03-02"),
        "not_in_between": rule(d, "notInBetween", "2023-02-01", "2025-06-01"),
        "is_null": rule(d, "isNull"),
        "not_null": rule(d, "notNull"),
        "in_the_past_days": rule(d, "inThePast", 10, **unit("days")),
        "in_the_past_weeks_completed": rule(d, "inThePast", 2, **unit("weeks", completed=True)),
        "in_the_past_months_completed": rule(
            d, "inThePast", 3, **unit("months", completed=True)
        ),
        "in_the_past_years": rule(d, "inThePast", 1, **unit("years")),
        "not_in_the_past": rule(d, "notInThePast", 1, **unit("years")),
        "in_the_next": rule(d, "inTheNext", 2, **unit("weeks")),
        "in_the_current_week": rule(d, "inTheCurrent", **unit("weeks")),
        "in_the_current_month": rule(d, "inTheCurrent", **unit("months")),
        "in_the_current_quarter": rule(d, "inTheCurrent", **unit("quarters")),
        "in_the_current_year": rule(d, "inTheCurrent", **unit("years")),
        "not_in_the_current": rule(d, "notInTheCurrent", **unit("years")),
        "period_to_date_weeks": rule(d, "inPeriodToDate", **unit("weeks")),
        "period_to_date_months": rule(d, "inPeriodToDate", **unit("months")),
        "period_to_date_quarters": rule(d, "inPeriodToDate", **unit("quarters")),
        "period_to_date_years": rule(d, "inPeriodToDate", **unit("years")),
        "on_interval_month": rule("orders_order_date_month", "equals", "2024-03-01"),
        "on_interval_year_num": rule("orders_order_date_year_num", "greaterThan", 2024),
        "on_interval_day_name": rule("orders_order_date_day_of_week_name", "equals", "Monday"),
    }  # fmt: skip
    return {
        f"filter_date_{name}": query("orders", ("orders_order_date_day",), _COUNT, where=where)
        for name, where in cases.items()
    }


def _timestamp_filters() -> dict[str, mq.MetricQuery]:
    at, paid = "orders_ordered_at", "payments_created_at"
    cases: dict[str, dict[str, Any]] = {
        "equals": rule(at, "equals", "2023-01-01T06:19:38"),
        "greater_than": rule(at, "greaterThan", "2025-06-01T10:00:00Z"),
        "less_than_or_equal": rule(paid, "lessThanOrEqual", "2023-01-03 12:00:00"),
        "in_between": rule(paid, "inBetween", "2024-01-01", "2024-01-03"),
        "not_in_between": rule(at, "notInBetween", "2023-02-01", "2025-06-01"),
        "is_null": rule(at, "isNull"),
        "in_the_past_hours": rule(paid, "inThePast", 36, **unit("hours")),
        "in_the_past_minutes": rule(paid, "inThePast", 800, **unit("minutes")),
        "in_the_past_seconds": rule(paid, "inThePast", 90000, **unit("seconds")),
        "in_the_past_milliseconds": rule(paid, "inThePast", 10**8, **unit("milliseconds")),
        "in_the_past_days_completed": rule(paid, "inThePast", 3, **unit("days", completed=True)),
        "in_the_next_hours": rule(paid, "inTheNext", 30, **unit("hours")),
        "in_the_current_day": rule(paid, "inTheCurrent", **unit("days")),
        "not_in_the_past": rule(at, "notInThePast", 18, **unit("months")),
        "period_to_date_months": rule(at, "inPeriodToDate", **unit("months")),
    }  # fmt: skip
    out = {}
    for name, where in cases.items():
        target = where["target"]["fieldId"]
        explore, dim = ("payments", "payments_created_at_raw") if target == paid else (
            "orders", "orders_ordered_at_raw")  # fmt: skip
        metric = _PAYMENTS if explore == "payments" else _COUNT
        out[f"filter_timestamp_{name}"] = query(explore, (dim,), metric, where=where)
    out["filter_timestamp_in_the_past_days_new_york"] = query(
        "payments", ("payments_created_at_hour",), _PAYMENTS,
        where=rule(paid, "inThePast", 2, **unit("days")), timezone_name="America/New_York",
    )  # fmt: skip
    return out


def _group_and_metric_filters() -> dict[str, mq.MetricQuery]:
    country = ("customers_country",)
    return {
        "filter_nested_groups": query(
            "orders",
            ("orders_status", "customers_country"),
            _COUNT,
            where=any_of(
                all_of(
                    rule("orders_status", "equals", "completed"),
                    rule("customers_country", "equals", "germany"),
                ),
                all_of(
                    rule("orders_is_gift", "equals", True),
                    rule("orders_amount", "greaterThan", 200),
                ),
            ),
        ),
        "filter_metric_count": query(
            "orders", country, _COUNT, having=rule("orders_order_count", "greaterThan", 200)
        ),
        "filter_metric_string": query(
            "orders",
            ("orders_order_date_month",),
            ("orders_order_volume_band",),
            having=rule("orders_order_volume_band", "equals", "medium"),
        ),
        "filter_metric_boolean": query(
            "orders",
            ("orders_status",),
            ("orders_has_returns",),
            having=rule("orders_has_returns", "equals", False),
        ),
        "filter_metric_date": query(
            "orders",
            country,
            ("orders_first_order_date",),
            having=rule("orders_first_order_date", "greaterThan", "2023-01-05"),
        ),
        "filter_metric_not_selected": query(
            "orders", country, _COUNT, having=rule("orders_total_revenue", "lessThan", 20000)
        ),
        "filter_metric_or_group": query(
            "orders",
            ("orders_status",),
            ("orders_order_count", "orders_average_amount"),
            having=any_of(
                rule("orders_order_count", "lessThan", 100),
                rule("orders_average_amount", "inBetween", 80, 90),
            ),
        ),
    }


def _with(base: mq.MetricQuery, **extra: Any) -> mq.MetricQuery:
    """`base` plus camelCase query parts (customDimensions, additionalMetrics …)."""
    return mq.MetricQuery.model_validate({**base.model_dump(by_alias=True), **extra})


def _bin(name: str, **spec: Any) -> dict[str, Any]:
    return {"id": name, "name": name, "table": "orders", "type": "bin",
            "dimensionId": "orders_amount", **spec}  # fmt: skip


def _sql_dim(name: str, table: str, sql: str, kind: str) -> dict[str, Any]:
    return {"id": name, "name": name, "table": table, "type": "sql", "sql": sql,
            "dimensionType": kind}  # fmt: skip


def _calc(name: str, **definition: Any) -> dict[str, Any]:
    return {"name": name, "displayName": name, **definition}


def _feature_queries() -> dict[str, mq.MetricQuery]:
    """Custom dimensions, additional metrics and table calculations."""
    by_status = query("orders", ("orders_status",), ("orders_order_count", "orders_total_revenue"))
    ranges = [{"to": 25}, {"from": 25, "to": 100}, {"from": 100}]
    count = "${orders.order_count}"
    return {
        "custom_bin_fixed_number": _with(
            query("orders", ("amount_bins",), _COUNT),
            customDimensions=[_bin("amount_bins", binType="fixed_number", binNumber=5)],
        ),
        "custom_bin_fixed_width": _with(
            query("orders", ("amount_bins",), _COUNT),
            customDimensions=[_bin("amount_bins", binType="fixed_width", binWidth=25)],
        ),
        "custom_bin_custom_range": _with(
            query("orders", ("amount_bins",), _COUNT),
            customDimensions=[_bin("amount_bins", binType="custom_range", customRange=ranges)],
        ),
        "custom_sql_integer_division": _with(
            query("orders", ("id_bucket",), _COUNT),
            customDimensions=[_sql_dim("id_bucket", "orders", "${orders.order_id} / 400",
                                       "number")],
        ),
        "custom_sql_concat_null": _with(
            query("customers", ("contact",), _CUSTOMERS),
            customDimensions=[_sql_dim(
                "contact", "customers",
                "${customers.first_name} || ' <' || ${customers.email} || '>'", "string")],
        ),
        "additional_metric_average_of_integer": _with(
            query("orders", ("orders_status",), ("order_items_average_quantity",
                                                  "order_items_p25_quantity")),
            additionalMetrics=[
                {"table": "order_items", "name": "average_quantity", "type": "average",
                 "sql": "${TABLE}.quantity"},
                {"table": "order_items", "name": "p25_quantity", "type": "percentile",
                 "percentile": 25, "sql": "${TABLE}.quantity"},
            ],
        ),
        "table_calculation_sql_window": _with(
            by_status,
            tableCalculations=[_calc("share", sql=f"{count} / SUM({count}) OVER ()")],
        ),
        "table_calculation_templates": _with(
            by_status,
            tableCalculations=[
                _calc("running", template={"type": "running_total",
                                           "fieldId": "orders_order_count"}),
                _calc("ranked", template={"type": "rank_in_column",
                                          "fieldId": "orders_total_revenue"}),
                _calc("pct", template={"type": "percent_of_column_total",
                                       "fieldId": "orders_total_revenue"}),
                # Without orderBy, LAG runs OVER (): "previous" is whatever row each engine
                # happens to read first (reported; the query sorts would be the natural order).
                _calc("change", template={
                    "type": "percent_change_from_previous", "fieldId": "orders_order_count",
                    "orderBy": [{"fieldId": "orders_order_count", "order": "desc"}]}),
            ],
        ),
    }  # fmt: skip


def _sample_queries() -> dict[str, mq.MetricQuery]:
    return {
        f"sample_{path.stem}": mq.MetricQuery.model_validate(json.loads(path.read_text()))
        for path in sorted((SAMPLE / "queries").glob("*.json"))
    }


QUERIES: Mapping[str, mq.MetricQuery] = MappingProxyType({
    **_sample_queries(),
    **_metric_queries(),
    **_interval_queries(),
    **_join_queries(),
    **_sort_queries(),
    **_string_filters(),
    **_number_filters(),
    **_boolean_filters(),
    **_date_filters(),
    **_timestamp_filters(),
    **_group_and_metric_filters(),
    **_feature_queries(),
    **pivot_queries(),
    **grain_queries(),
})  # fmt: skip
