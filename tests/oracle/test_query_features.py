"""Oracle tests for custom dimensions, additional metrics, table calculations, post-calc metrics."""

from __future__ import annotations

import math
from typing import Any

import duckdb
import pytest

import metricql as mq
from metricql.compiler.features.calculation_helpers import HELPERS, UNSUPPORTED
from tests.conftest import assert_same_rows


def _run(
    project: mq.Project, duck: duckdb.DuckDBPyConnection, body: dict[str, Any]
) -> mq.QueryResult:
    return project.run(
        mq.MetricQuery.model_validate({"exploreName": "orders", "limit": None, **body}),
        connection=duck,
    )


def _bin(bin_type: str, **kw: Any) -> dict[str, Any]:
    return {
        "id": "amount_bin",
        "name": "Amount bin",
        "table": "orders",
        "type": "bin",
        "dimensionId": "orders_amount",
        "binType": bin_type,
        **kw,
    }


# ---- custom bins ----


def test_fixed_width_bins_labels_nulls_and_bin_order(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    result = _run(
        project,
        duck,
        {
            "dimensions": ["amount_bin"],
            "metrics": ["orders_order_count"],
            "customDimensions": [_bin("fixed_width", binWidth=25)],
            "sorts": [{"fieldId": "amount_bin"}],
        },
    )
    want = duck.sql("""
        SELECT CASE WHEN amount IS NULL THEN NULL ELSE
                 CAST(FLOOR(amount / 25) * 25 AS BIGINT) || ' - ' ||
                 CAST(FLOOR(amount / 25) * 25 + 24 AS BIGINT) END AS b,
               COUNT(order_id)
        FROM main.orders GROUP BY b, FLOOR(amount / 25)
        ORDER BY FLOOR(amount / 25) NULLS LAST
    """).fetchall()
    assert_same_rows(result.rows, want, ["amount_bin", "orders_order_count"], ordered=True)
    labels = [r["amount_bin"] for r in result.rows]
    assert labels[:3] == ["0 - 24", "25 - 49", "50 - 74"]
    # numeric order, not text order: "100 - 124" comes after "75 - 99"
    assert labels.index("100 - 124") > labels.index("75 - 99")
    assert labels[-1] is None
    assert [f.id for f in result.fields] == ["amount_bin", "orders_order_count"]


def test_custom_range_bins(project: mq.Project, duck: duckdb.DuckDBPyConnection) -> None:
    result = _run(
        project,
        duck,
        {
            "dimensions": ["amount_bin"],
            "metrics": ["orders_total_revenue"],
            "customDimensions": [
                _bin(
                    "custom_range",
                    customRange=[{"to": 20}, {"from": 20, "to": 50.5}, {"from": 50.5}],
                )
            ],
            "sorts": [{"fieldId": "amount_bin", "descending": True}],
        },
    )
    want = duck.sql("""
        SELECT CASE WHEN amount IS NULL THEN NULL WHEN amount < 20 THEN '<20'
                    WHEN amount >= 20 AND amount < 50.5 THEN '20-50.5' ELSE '≥50.5' END,
               SUM(amount),
               CASE WHEN amount IS NULL THEN 3 WHEN amount < 20 THEN 0
                    WHEN amount < 50.5 THEN 1 ELSE 2 END AS o
        FROM main.orders GROUP BY 1, 3 ORDER BY o DESC
    """).fetchall()
    assert_same_rows(
        result.rows, [r[:2] for r in want], ["amount_bin", "orders_total_revenue"], ordered=True
    )


def test_fixed_number_bins_use_only_filtered_rows(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    result = _run(
        project,
        duck,
        {
            "dimensions": ["amount_bin"],
            "metrics": ["orders_order_count"],
            "customDimensions": [_bin("fixed_number", binNumber=4)],
            "filters": {
                "dimensions": {
                    "id": "g",
                    "and": [
                        {
                            "id": "r",
                            "target": {"fieldId": "orders_status"},
                            "operator": "equals",
                            "values": ["returned"],
                        }
                    ],
                }
            },
        },
    )
    ((lo, hi),) = duck.sql(
        "SELECT MIN(amount), MAX(amount) FROM main.orders WHERE status = 'returned'"
    ).fetchall()
    base, top = math.floor(lo), math.ceil(hi)
    width = math.floor((hi - lo) / 4)
    rows = duck.sql("SELECT amount FROM main.orders WHERE status = 'returned'").fetchall()
    counts: dict[Any, int] = {}
    for (amount,) in rows:
        if amount is None:
            label = None
        else:
            i = next(
                (i for i in range(3) if base + width * i <= amount < base + width * (i + 1)), 3
            )
            end = base + width * (i + 1) if i < 3 else top
            label = f"{base + width * i} - {end}"
        counts[label] = counts.get(label, 0) + 1
    assert_same_rows(result.rows, list(counts.items()), ["amount_bin", "orders_order_count"])


@pytest.mark.parametrize(
    ("definition", "culprit"),
    [
        (_bin("fixed_width", binWidth=0), "binWidth"),
        (_bin("fixed_width", binWidth=-5), "binWidth"),
        (_bin("fixed_number", binNumber=0), "binNumber"),
        (_bin("custom_range", customRange=[]), "customRange"),
        ({**_bin("fixed_width", binWidth=5), "dimensionId": "orders_nope"}, "orders_nope"),
        ({**_bin("fixed_width", binWidth=5), "dimensionId": "orders_status"}, "orders_status"),
    ],
)
def test_bad_bins(project: mq.Project, definition: dict[str, Any], culprit: str) -> None:
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "dimensions": ["amount_bin"],
            "metrics": ["orders_order_count"],
            "customDimensions": [definition],
        }
    )
    with pytest.raises(mq.QueryError, match=culprit):
        project.compile(query)


# ---- custom SQL dimensions ----

SQL_DIM = {
    "id": "gift_status",
    "name": "Gift status",
    "table": "orders",
    "type": "sql",
    "sql": "CASE WHEN ${orders.is_gift} THEN 'gift: ' || ${customers.country} ELSE 'plain' END",
    "dimensionType": "string",
}


def test_custom_sql_dimension_select_filter_sort(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    result = _run(
        project,
        duck,
        {
            "dimensions": ["gift_status"],
            "metrics": ["orders_order_count"],
            "customDimensions": [SQL_DIM],
            "filters": {
                "dimensions": {
                    "id": "g",
                    "and": [
                        {
                            "id": "r",
                            "target": {"fieldId": "gift_status"},
                            "operator": "notEquals",
                            "values": ["plain"],
                        }
                    ],
                }
            },
            "sorts": [{"fieldId": "gift_status"}],
        },
    )
    want = duck.sql("""
        SELECT x, COUNT(order_id) FROM (
          SELECT CASE WHEN o.is_gift THEN 'gift: ' || c.country ELSE 'plain' END AS x, o.order_id
          FROM main.orders o LEFT JOIN main.customers c ON o.customer_id = c.customer_id)
        WHERE x <> 'plain' OR x IS NULL GROUP BY x ORDER BY x NULLS LAST
    """).fetchall()
    assert_same_rows(result.rows, want, ["gift_status", "orders_order_count"], ordered=True)


def test_custom_sql_dimension_over_another_joins_its_tables(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    """`greeting` reads `first`, which reads customers: selected alone, it still joins them."""
    first = {"id": "first", "name": "first", "table": "customers", "type": "sql",
             "sql": "${customers.first_name}", "dimensionType": "string"}  # fmt: skip
    greeting = {"id": "greeting", "name": "greeting", "table": "orders", "type": "sql",
                "sql": "'hi ' || ${first}", "dimensionType": "string"}  # fmt: skip
    result = _run(
        project,
        duck,
        {
            "dimensions": ["greeting"],
            "metrics": ["orders_order_count"],
            "customDimensions": [first, greeting],
        },
    )
    want = duck.sql("""
        SELECT 'hi ' || c.first_name, COUNT(o.order_id)
        FROM main.orders o LEFT JOIN main.customers c ON o.customer_id = c.customer_id
        GROUP BY 1""").fetchall()
    assert_same_rows(result.rows, want, ["greeting", "orders_order_count"])


def test_custom_sql_dimension_with_aggregate_is_rejected(project: mq.Project) -> None:
    bad = {**SQL_DIM, "sql": "SUM(${orders.amount})"}
    query = mq.MetricQuery.model_validate(
        {"exploreName": "orders", "dimensions": ["gift_status"], "customDimensions": [bad]}
    )
    with pytest.raises(mq.QueryError, match="gift_status.*aggregate"):
        project.compile(query)


# ---- additional metrics ----


def test_additional_metrics_with_filters_and_percentile(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    result = _run(
        project,
        duck,
        {
            "dimensions": ["orders_status"],
            "metrics": ["orders_gift_revenue", "orders_p25_shipping"],
            "additionalMetrics": [
                {
                    "table": "orders",
                    "name": "gift_revenue",
                    "type": "sum",
                    "sql": "${TABLE}.amount",
                    "filters": [
                        {
                            "id": "f",
                            "target": {"fieldRef": "orders.is_gift"},
                            "operator": "equals",
                            "values": [True],
                        }
                    ],
                },
                {
                    "table": "orders",
                    "name": "p25_shipping",
                    "type": "percentile",
                    "sql": "${shipping_cost}",
                    "percentile": 25,
                },
            ],
            "sorts": [{"fieldId": "orders_gift_revenue", "descending": True}],
        },
    )
    want = duck.sql("""
        SELECT status, SUM(CASE WHEN is_gift THEN amount END), QUANTILE_CONT(shipping_cost, 0.25)
        FROM main.orders GROUP BY status
    """).fetchall()
    assert_same_rows(
        result.rows, want, ["orders_status", "orders_gift_revenue", "orders_p25_shipping"]
    )


def test_additional_metric_on_missing_table(project: mq.Project) -> None:
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "metrics": ["ghost_m"],
            "additionalMetrics": [{"table": "ghost", "name": "m", "type": "sum", "sql": "1"}],
        }
    )
    with pytest.raises(mq.QueryError, match='table that doesn\'t exist "ghost"'):
        project.compile(query)


# ---- table calculations ----

BY_STATUS = duck_sql = """
    SELECT status AS s, SUM(amount) AS rev, COUNT(order_id) AS n FROM main.orders GROUP BY status
"""


def _tc(name: str, **kw: Any) -> dict[str, Any]:
    return {"name": name, "displayName": name.title(), **kw}


def test_chain_of_three_dependent_calculations(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    result = _run(
        project,
        duck,
        {
            "dimensions": ["orders_status"],
            "metrics": ["orders_total_revenue", "orders_order_count"],
            "tableCalculations": [  # deliberately out of dependency order
                _tc("c3", sql="${c2} * 2 + ${c1}", type="number"),
                _tc("c1", sql="${orders.total_revenue} / NULLIF(${orders_order_count}, 0)"),
                _tc("c2", sql="ROUND(${c1}, 1)"),
            ],
            "sorts": [{"fieldId": "c3", "descending": True}],
        },
    )
    want = duck.sql(f"""
        SELECT s, rev, n, rev / NULLIF(n, 0) AS c1, ROUND(rev / NULLIF(n, 0), 1) AS c2,
               ROUND(rev / NULLIF(n, 0), 1) * 2 + rev / NULLIF(n, 0) AS c3
        FROM ({BY_STATUS}) ORDER BY c3 DESC NULLS LAST
    """).fetchall()
    cols = ["orders_status", "orders_total_revenue", "orders_order_count", "c1", "c2", "c3"]
    assert_same_rows(result.rows, want, cols, ordered=True)
    assert [f.id for f in result.fields] == cols


TEMPLATES: dict[str, tuple[dict[str, Any], str]] = {
    "percent_change_from_previous": (
        {
            "fieldId": "orders_total_revenue",
            "orderBy": [{"fieldId": "orders_status", "order": "asc"}],
        },
        "rev / NULLIF(LAG(rev) OVER (ORDER BY s), 0) - 1",
    ),
    "percent_of_previous_value": (
        {
            "fieldId": "orders_total_revenue",
            "orderBy": [{"fieldId": "orders_status", "order": "desc"}],
        },
        "rev / NULLIF(LAG(rev) OVER (ORDER BY s DESC), 0)",
    ),
    "difference_from_previous": (
        {
            "fieldId": "orders_order_count",
            "orderBy": [{"fieldId": "orders_total_revenue", "order": "asc"}],
        },
        "n - LAG(n) OVER (ORDER BY rev)",
    ),
    "percent_of_column_total": ({"fieldId": "orders_total_revenue"}, "rev / SUM(rev) OVER ()"),
    "rank_in_column": ({"fieldId": "orders_order_count"}, "RANK() OVER (ORDER BY n)"),
    "running_total": (
        {
            "fieldId": "orders_order_count",
            "orderBy": [{"fieldId": "orders_status", "order": "asc"}],
        },
        "SUM(n) OVER (ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)",
    ),
    "window_function": (
        {
            "windowFunction": "avg",
            "fieldId": "orders_order_count",
            "partitionBy": [],
            "orderBy": [{"fieldId": "orders_status", "order": "asc"}],
            "frame": {
                "frameType": "rows",
                "start": {"type": "preceding", "offset": 1},
                "end": {"type": "current_row"},
            },
        },
        "AVG(n) OVER (ORDER BY s ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)",
    ),
}


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_template(
    project: mq.Project, duck: duckdb.DuckDBPyConnection, template: str
) -> None:
    spec, sql = TEMPLATES[template]
    result = _run(
        project,
        duck,
        {
            "dimensions": ["orders_status"],
            "metrics": ["orders_total_revenue", "orders_order_count"],
            "tableCalculations": [_tc("calc", template={"type": template, **spec})],
        },
    )
    want = duck.sql(f"SELECT s, {sql} FROM ({BY_STATUS})").fetchall()
    assert_same_rows(result.rows, want, ["orders_status", "calc"])


def test_table_calculation_filter(project: mq.Project, duck: duckdb.DuckDBPyConnection) -> None:
    result = _run(
        project,
        duck,
        {
            "dimensions": ["orders_status"],
            "metrics": ["orders_total_revenue"],
            "tableCalculations": [
                _tc(
                    "share",
                    template={"type": "percent_of_column_total", "fieldId": "orders_total_revenue"},
                    type="number",
                )
            ],
            "filters": {
                "tableCalculations": {
                    "id": "g",
                    "and": [
                        {
                            "id": "r",
                            "target": {"fieldId": "share"},
                            "operator": "greaterThan",
                            "values": [0.1],
                        }
                    ],
                }
            },
        },
    )
    want = duck.sql(f"""SELECT s, rev, share FROM (SELECT s, rev, rev / SUM(rev) OVER () AS share
                        FROM ({BY_STATUS})) WHERE share > 0.1""").fetchall()
    assert_same_rows(result.rows, want, ["orders_status", "orders_total_revenue", "share"])
    assert len(want) >= 2


@pytest.mark.parametrize(
    ("calcs", "culprit"),
    [
        ([_tc("x", sql="${orders.amount} + 1")], "orders.amount"),  # field not in query
        ([_tc("a", sql="${b}"), _tc("b", sql="${a}")], "Circular"),
        ([_tc("orders_order_count", sql="1")], "orders_order_count"),  # name clash
        ([_tc("x", sql="${x} + 1")], "itself"),
        ([_tc("x", sql="1 +* 2")], "does not parse"),
    ],
)
def test_bad_table_calculations(
    project: mq.Project, calcs: list[dict[str, Any]], culprit: str
) -> None:
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "dimensions": ["orders_status"],
            "metrics": ["orders_order_count"],
            "tableCalculations": calcs,
        }
    )
    with pytest.raises(mq.QueryError, match=culprit):
        project.compile(query)


# ---- post-calculation metrics and calendar sorts ----


def test_post_calculation_metrics(project: mq.Project, duck: duckdb.DuckDBPyConnection) -> None:
    metrics = ["orders_revenue_running_total", "orders_revenue_share", "orders_revenue_change"]
    result = _run(
        project,
        duck,
        {
            "dimensions": ["orders_order_date_quarter"],
            "metrics": metrics,
            "sorts": [{"fieldId": "orders_order_date_quarter"}],
        },
    )
    want = duck.sql("""
        SELECT q, SUM(rev) OVER (ORDER BY q ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
               rev / SUM(rev) OVER (), rev / NULLIF(LAG(rev) OVER (ORDER BY q), 0) - 1
        FROM (SELECT CAST(DATE_TRUNC('quarter', order_date) AS DATE) AS q, SUM(amount) AS rev
              FROM main.orders GROUP BY 1) ORDER BY q NULLS LAST
    """).fetchall()
    assert_same_rows(result.rows, want, ["orders_order_date_quarter", *metrics], ordered=True)
    assert [f.id for f in result.fields] == ["orders_order_date_quarter", *metrics]


@pytest.mark.parametrize(
    ("dim", "names"),
    [
        (
            "orders_order_date_month_name",
            [
                "January",
                "February",
                "March",
                "April",
                "May",
                "June",
                "July",
                "August",
                "September",
                "October",
                "November",
                "December",
            ],
        ),
        (
            "orders_order_date_day_of_week_name",
            ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
        ),
    ],
)
def test_name_intervals_sort_in_calendar_order(
    project: mq.Project, duck: duckdb.DuckDBPyConnection, dim: str, names: list[str]
) -> None:
    result = _run(
        project,
        duck,
        {"dimensions": [dim], "metrics": ["orders_order_count"], "sorts": [{"fieldId": dim}]},
    )
    got = [r[dim] for r in result.rows]
    assert got == [*names, None]  # the NULL order date comes last


# ---- totals (CalculateTotalFromQuery) ----


def test_totals_recompute_non_additive_metrics_over_raw_rows(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "dimensions": ["orders_status"],
            "metrics": [
                "orders_total_revenue",
                "orders_unique_customer_count",
                "orders_average_amount",
                "orders_order_count",
            ],
            "filters": {
                "dimensions": {
                    "id": "g",
                    "and": [
                        {
                            "id": "r",
                            "target": {"fieldId": "orders_is_gift"},
                            "operator": "equals",
                            "values": [False],
                        }
                    ],
                }
            },
            "tableCalculations": [
                _tc("aov", sql="${orders.total_revenue} / ${orders.order_count}"),
                _tc("rank", template={"type": "rank_in_column", "fieldId": "orders_order_count"}),
            ],
            "limit": 2,
        }
    )
    totals = project.totals(query, connection=duck)
    ((rev, customers, avg, n),) = duck.sql("""
        SELECT SUM(amount), COUNT(DISTINCT customer_id), AVG(amount), COUNT(order_id)
        FROM main.orders WHERE NOT is_gift""").fetchall()
    assert totals == pytest.approx(
        {
            "orders_total_revenue": rev,
            "orders_unique_customer_count": customers,
            "orders_average_amount": avg,
            "orders_order_count": n,
            "aov": rev / n,
        }
    )
    # the grouped rows would give a different (wrong) count_distinct if summed:
    grouped = project.run(query.model_copy(update={"limit": None}), connection=duck).rows
    assert sum(r["orders_unique_customer_count"] for r in grouped) > customers


def test_totals_under_metric_filter_cover_only_passing_groups(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "dimensions": ["customers_country"],
            "metrics": ["orders_total_revenue", "orders_unique_customer_count"],
            "filters": {
                "dimensions": {
                    "id": "d",
                    "and": [
                        {
                            "id": "r",
                            "target": {"fieldId": "orders_status"},
                            "operator": "notEquals",
                            "values": ["returned"],
                        }
                    ],
                },
                "metrics": {
                    "id": "m",
                    "and": [
                        {
                            "id": "f",
                            "target": {"fieldId": "orders_order_count"},
                            "operator": "greaterThan",
                            "values": [100],
                        }
                    ],
                },
            },
        }
    )
    totals = project.totals(query, connection=duck)
    ((rev, customers),) = duck.sql("""
        WITH base AS (
          SELECT c.country, o.* FROM main.orders o
          LEFT JOIN main.customers c ON o.customer_id = c.customer_id
          WHERE o.status <> 'returned' OR o.status IS NULL),
        passing AS (SELECT country FROM base GROUP BY country HAVING COUNT(order_id) > 100)
        SELECT SUM(amount), COUNT(DISTINCT customer_id)
        FROM base WHERE country IN (SELECT country FROM passing)
           OR (country IS NULL AND EXISTS (SELECT 1 FROM passing WHERE country IS NULL))
    """).fetchall()
    assert totals == pytest.approx(
        {"orders_total_revenue": rev, "orders_unique_customer_count": customers}
    )
    all_rev = duck.sql(
        "SELECT SUM(amount) FROM main.orders WHERE status <> 'returned' OR status IS NULL"
    ).fetchall()[0][0]
    assert rev < all_rev  # the metric filter really excluded some groups


def test_totals_need_a_metric(project: mq.Project) -> None:
    query = mq.MetricQuery(explore_name="orders", dimensions=["orders_status"])
    with pytest.raises(mq.QueryError, match="Nothing to total"):
        project.totals(query)


# ---- SPEC §8 examples 13, 21, 23, 26 (results) and calculation helper functions ----


def test_boolean_custom_sql_dimension(project: mq.Project, duck: duckdb.DuckDBPyConnection) -> None:
    result = _run(
        project,
        duck,
        {
            "dimensions": ["orders_status", "is_small"],
            "metrics": ["orders_order_count"],
            "customDimensions": [
                {
                    "id": "is_small",
                    "name": "Is small",
                    "table": "orders",
                    "type": "sql",
                    "sql": "${orders.amount} < 18",
                    "dimensionType": "boolean",
                }
            ],
        },
    )
    want = duck.sql(
        "SELECT status, amount < 18, COUNT(order_id) FROM main.orders GROUP BY 1, 2"
    ).fetchall()
    assert_same_rows(result.rows, want, ["orders_status", "is_small", "orders_order_count"])
    assert result.fields[1].type == "boolean"


def test_sorted_fixed_number_bin_and_row_number(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    result = _run(
        project,
        duck,
        {
            "dimensions": ["amount_bin"],
            "metrics": ["orders_order_count"],
            "customDimensions": [_bin("fixed_number", binNumber=3)],
            "sorts": [{"fieldId": "amount_bin", "descending": True}],
            "tableCalculations": [_tc("row_no", sql="row()")],
        },
    )
    ((lo, hi),) = duck.sql("SELECT MIN(amount), MAX(amount) FROM main.orders").fetchall()
    base, width = math.floor(lo), math.floor((hi - lo) / 3)
    want = duck.sql(f"""
        SELECT CASE WHEN amount IS NULL THEN 3 WHEN amount < {base + width} THEN 0
                    WHEN amount < {base + 2 * width} THEN 1 ELSE 2 END AS pos, COUNT(order_id)
        FROM main.orders GROUP BY pos ORDER BY pos DESC""").fetchall()
    assert [r["orders_order_count"] for r in result.rows] == [n for _, n in want]
    assert [r["row_no"] for r in result.rows] == list(range(1, len(want) + 1))
    assert result.rows[0]["amount_bin"] is None  # NULL bin has the highest position
    assert result.rows[-1]["amount_bin"] == f"{base} - {base + width}"


def test_total_function_and_dependent_calculation(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    result = _run(
        project,
        duck,
        {
            "dimensions": ["orders_status"],
            "metrics": ["orders_unique_customer_count", "orders_total_revenue"],
            "tableCalculations": [
                _tc("pct_total", sql="${orders.total_revenue} / total(${orders.total_revenue})"),
                _tc("double_pct", sql="${pct_total} * 2"),
                _tc(
                    "of_all_customers",
                    sql="${orders.unique_customer_count} / total(${orders.unique_customer_count})",
                ),
            ],
        },
    )
    ((rev, customers),) = duck.sql(
        "SELECT SUM(amount), COUNT(DISTINCT customer_id) FROM main.orders"
    ).fetchall()
    want = duck.sql(f"""SELECT status, SUM(amount) / {rev}, 2 * SUM(amount) / {rev},
                               COUNT(DISTINCT customer_id) / {customers}
                        FROM main.orders GROUP BY status""").fetchall()
    assert_same_rows(
        result.rows, want, ["orders_status", "pct_total", "double_pct", "of_all_customers"]
    )


def test_offset_and_index_functions(project: mq.Project, duck: duckdb.DuckDBPyConnection) -> None:
    result = _run(
        project,
        duck,
        {
            "dimensions": ["orders_order_date_year"],
            "metrics": ["orders_order_count"],
            "sorts": [{"fieldId": "orders_order_date_year"}],
            "tableCalculations": [
                _tc("previous", sql="offset(${orders.order_count}, -1)"),
                _tc("next", sql="offset(${orders.order_count}, 1)"),
                _tc("first", sql="index(${orders.order_count}, 1)"),
                _tc("own_total", sql="row_total(${orders.order_count})"),
            ],
        },
    )
    want = duck.sql("""
        SELECT y, n, LAG(n) OVER (ORDER BY y NULLS LAST), LEAD(n) OVER (ORDER BY y NULLS LAST),
               FIRST_VALUE(n) OVER (ORDER BY y NULLS LAST), n
        FROM (SELECT DATE_TRUNC('year', order_date)::DATE AS y, COUNT(order_id) AS n
              FROM main.orders GROUP BY 1) ORDER BY y NULLS LAST""").fetchall()
    assert_same_rows(
        result.rows,
        want,
        ["orders_order_date_year", "orders_order_count", "previous", "next", "first", "own_total"],
        ordered=True,
    )


# Helpers the oracles above execute (row: bins, total: shares, the rest: offsets).
EXECUTED_HELPERS = {"row", "total", "row_total", "offset", "index"}


def test_every_helper_is_executed_or_unsupported() -> None:
    assert set(HELPERS) == EXECUTED_HELPERS
    assert UNSUPPORTED.isdisjoint(HELPERS)


@pytest.mark.parametrize("fn", [*sorted(UNSUPPORTED), "pivot_column"])
def test_unsupported_helpers_are_named_errors(project: mq.Project, fn: str) -> None:
    query = mq.MetricQuery(
        explore_name="orders",
        metrics=["orders_order_count"],
        table_calculations=[_tc("c", sql=f"{fn}(${{orders.order_count}})")],
    )
    with pytest.raises(mq.UnsupportedError, match=f"{fn}"):
        project.compile(query)


def test_totals_leave_out_calculations_using_row_helpers(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "dimensions": ["orders_status"],
            "metrics": ["orders_order_count"],
            "tableCalculations": [
                _tc("share", sql="${orders.order_count} / total(${orders.order_count})"),
                _tc("doubled", sql="${orders.order_count} * 2"),
            ],
        }
    )
    totals = project.totals(query, connection=duck)
    assert totals == {"orders_order_count": 2000, "doubled": 4000}
