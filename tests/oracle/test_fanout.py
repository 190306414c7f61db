"""Oracle tests: metrics stay correct when the query's joins repeat their rows (fan-out).

Each expected result is written by hand the way an analyst would: deduplicate first, then
aggregate (a different shape from the compiler's DISTINCT-then-stitch SQL).
"""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import metricql as mq
from tests.conftest import assert_same_rows
from tests.helpers import make_project


def _run(
    project: mq.Project, duck: duckdb.DuckDBPyConnection, body: dict[str, Any]
) -> mq.QueryResult:
    query = mq.MetricQuery.model_validate({"exploreName": "orders", "limit": None, **body})
    return project.run(query, connection=duck)


# orders metric id → its aggregate over an `o` that holds each order at most once per group
ORDERS = {
    "orders_order_count": "COUNT(o.order_id)",
    "orders_total_revenue": "SUM(o.amount)",
    "orders_average_amount": "AVG(o.amount)",
    "orders_median_amount": "MEDIAN(o.amount)",
    "orders_p90_amount": "QUANTILE_CONT(o.amount, 0.9)",
    "orders_average_order_value": "SUM(o.amount) / NULLIF(COUNT(o.order_id), 0)",
    "orders_completed_revenue": "SUM(CASE WHEN o.status = 'completed' THEN o.amount END)",
    "orders_return_rate": "1.0 * COUNT(CASE WHEN o.status = 'returned' THEN 1 END) "
    "/ NULLIF(COUNT(o.order_id), 0)",
    "orders_unique_customer_count": "COUNT(DISTINCT o.customer_id)",
    "orders_max_amount": "MAX(o.amount)",
    "orders_total_shipping": "SUM(o.shipping_cost)",
}
METRICS = list(ORDERS)


def _orders_sql(metrics: list[str]) -> str:
    return ", ".join(ORDERS[m] for m in metrics)


def test_orders_metrics_by_payment_method_are_not_inflated(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    result = _run(project, duck, {"dimensions": ["payments_payment_method"], "metrics": METRICS})
    want = duck.sql(f"""
        SELECT m.payment_method, {_orders_sql(METRICS)}
        FROM main.orders o
        LEFT JOIN (SELECT DISTINCT order_id, payment_method FROM main.payments) m
          ON m.order_id = o.order_id
        GROUP BY 1
    """).fetchall()
    assert_same_rows(result.rows, want, ["payments_payment_method", *METRICS])
    assert result.warnings == ()


def test_orders_metrics_by_order_item_product(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    result = _run(project, duck, {"dimensions": ["order_items_product"], "metrics": METRICS})
    want = duck.sql(f"""
        SELECT i.product, {_orders_sql(METRICS)}
        FROM main.orders o
        LEFT JOIN (SELECT DISTINCT order_id, product FROM main.order_items) i
          ON i.order_id = o.order_id
        GROUP BY 1
    """).fetchall()
    assert_same_rows(result.rows, want, ["order_items_product", *METRICS])


def test_naive_join_would_inflate(project: mq.Project, duck: duckdb.DuckDBPyConnection) -> None:
    """Guard for the oracle itself: the sample data really fans out."""
    [(naive,)] = duck.sql("""
        SELECT SUM(o.amount) FROM main.orders o
        LEFT JOIN main.payments p ON p.order_id = o.order_id
    """).fetchall()
    [(honest,)] = duck.sql("SELECT SUM(amount) FROM main.orders").fetchall()
    assert naive > honest * 1.1


CHASM_METRICS = [
    "orders_order_count",
    "orders_total_revenue",
    "orders_average_order_value",
    "orders_median_amount",
    "payments_payment_count",
    "payments_total_amount",
    "payments_average_payment",
    "payments_largest_payment",
    "order_items_item_count",
    "order_items_total_quantity",
    "order_items_item_revenue",
    "order_items_average_unit_price",
    "customers_average_lifetime_score",
]


def test_chasm_trap_orders_payments_and_items_by_country(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    result = _run(project, duck, {"dimensions": ["customers_country"], "metrics": CHASM_METRICS})
    want = duck.sql("""
        WITH o AS (
          SELECT c.country, COUNT(o.order_id) AS n, SUM(o.amount) AS rev,
                 SUM(o.amount) / NULLIF(COUNT(o.order_id), 0) AS aov, MEDIAN(o.amount) AS med
          FROM main.orders o LEFT JOIN main.customers c ON o.customer_id = c.customer_id
          GROUP BY 1),
        p AS (
          SELECT c.country, COUNT(p.payment_id) AS n, SUM(p.amount) AS total,
                 AVG(p.amount) AS avg, MAX(p.amount) AS mx
          FROM main.orders o LEFT JOIN main.customers c ON o.customer_id = c.customer_id
          LEFT JOIN main.payments p ON p.order_id = o.order_id
          GROUP BY 1),
        i AS (
          SELECT c.country, COUNT(i.order_item_id) AS n, SUM(i.quantity) AS qty,
                 SUM(i.quantity * i.unit_price) AS rev, AVG(i.unit_price) AS price
          FROM main.orders o LEFT JOIN main.customers c ON o.customer_id = c.customer_id
          LEFT JOIN main.order_items i ON i.order_id = o.order_id
          GROUP BY 1),
        c AS (  -- each customer once per country they ordered from
          SELECT k.country, AVG(k.lifetime_score) AS score
          FROM (SELECT DISTINCT c.country, c.customer_id, c.lifetime_score
                FROM main.orders o LEFT JOIN main.customers c
                  ON o.customer_id = c.customer_id) k
          GROUP BY 1)
        SELECT o.country, o.n, o.rev, o.aov, o.med, p.n, p.total, p.avg, p.mx,
               i.n, i.qty, i.rev, i.price, c.score
        FROM o
        JOIN p ON p.country IS NOT DISTINCT FROM o.country
        JOIN i ON i.country IS NOT DISTINCT FROM o.country
        JOIN c ON c.country IS NOT DISTINCT FROM o.country
    """).fetchall()
    assert_same_rows(result.rows, want, ["customers_country", *CHASM_METRICS])


def test_chasm_trap_without_dimensions_cross_joins(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    metrics = ["orders_total_revenue", "payments_total_amount", "order_items_item_count"]
    result = _run(project, duck, {"metrics": metrics})
    want = duck.sql("""
        SELECT (SELECT SUM(amount) FROM main.orders),
               (SELECT SUM(p.amount) FROM main.payments p
                  JOIN main.orders o ON o.order_id = p.order_id),
               (SELECT COUNT(*) FROM main.order_items i
                  JOIN main.orders o ON o.order_id = i.order_id)
    """).fetchall()
    assert_same_rows(result.rows, want, metrics)
    assert "CROSS JOIN" in result.sql


def test_many_to_one_in_payments_explore(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    """payments explore: orders (many-to-one, inner) is repeated once per payment."""
    metrics = [*METRICS, "payments_payment_count", "payments_total_amount"]
    query = mq.MetricQuery(
        explore_name="payments",
        dimensions=["payments_payment_method"],
        metrics=metrics,
        limit=None,
    )
    result = project.run(query, connection=duck)
    want = duck.sql(f"""
        WITH paid AS (SELECT * FROM main.payments WHERE amount > 0),
        by_order AS (
          SELECT m.payment_method, {_orders_sql(METRICS)}
          FROM (SELECT DISTINCT payment_method, order_id FROM paid) m
          JOIN main.orders o ON o.order_id = m.order_id
          GROUP BY 1),
        by_payment AS (
          SELECT p.payment_method, COUNT(p.payment_id) AS n, SUM(p.amount) AS total
          FROM paid p JOIN main.orders o ON o.order_id = p.order_id
          GROUP BY 1)
        SELECT by_order.*, n, total FROM by_order JOIN by_payment USING (payment_method)
    """).fetchall()
    assert_same_rows(result.rows, want, ["payments_payment_method", *metrics])


def test_fanout_with_dimension_filters_on_both_sides(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    metrics = [
        "orders_order_count",
        "orders_total_revenue",
        "orders_average_amount",
        "payments_total_amount",
    ]
    result = _run(
        project,
        duck,
        {
            "dimensions": ["payments_payment_method"],
            "metrics": metrics,
            "filters": {
                "dimensions": {
                    "id": "g",
                    "and": [
                        {
                            "id": "a",
                            "target": {"fieldId": "payments_status"},
                            "operator": "equals",
                            "values": ["success"],
                        },
                        {
                            "id": "b",
                            "target": {"fieldId": "orders_status"},
                            "operator": "equals",
                            "values": ["completed", "shipped"],
                        },
                    ],
                }
            },
        },
    )
    want = duck.sql("""
        WITH p AS (SELECT * FROM main.payments WHERE status = 'success'),
        o AS (SELECT * FROM main.orders WHERE status IN ('completed', 'shipped')),
        by_order AS (
          SELECT m.payment_method, COUNT(o.order_id) AS n, SUM(o.amount) AS rev,
                 AVG(o.amount) AS avg
          FROM o JOIN (SELECT DISTINCT order_id, payment_method FROM p) m
            ON m.order_id = o.order_id
          GROUP BY 1),
        by_payment AS (
          SELECT p.payment_method, SUM(p.amount) AS total
          FROM o JOIN p ON p.order_id = o.order_id GROUP BY 1)
        SELECT payment_method, n, rev, avg, total
        FROM by_order JOIN by_payment USING (payment_method)
    """).fetchall()
    assert_same_rows(result.rows, want, ["payments_payment_method", *metrics])


def test_fanout_with_metric_filters_sort_and_limit(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    result = _run(
        project,
        duck,
        {
            "dimensions": ["order_items_product"],
            "metrics": ["orders_total_revenue", "order_items_total_quantity"],
            "filters": {
                "metrics": {
                    "id": "g",
                    "and": [
                        {
                            "id": "a",
                            "target": {"fieldId": "orders_order_count"},
                            "operator": "greaterThan",
                            "values": [300],
                        },  # filter-only metric, itself protected from fan-out
                        {
                            "id": "b",
                            "target": {"fieldId": "orders_total_revenue"},
                            "operator": "greaterThan",
                            "values": [1000],
                        },
                    ],
                }
            },
            "sorts": [{"fieldId": "orders_total_revenue", "descending": True}],
            "limit": 3,
        },
    )
    want = duck.sql("""
        WITH by_order AS (
          SELECT i.product, COUNT(o.order_id) AS n, SUM(o.amount) AS rev
          FROM main.orders o JOIN (SELECT DISTINCT order_id, product FROM main.order_items) i
            ON i.order_id = o.order_id
          GROUP BY 1),
        by_item AS (SELECT product, SUM(quantity) AS qty FROM main.order_items GROUP BY 1)
        SELECT product, rev, qty FROM by_order JOIN by_item USING (product)
        WHERE n > 300 AND rev > 1000 ORDER BY rev DESC LIMIT 3
    """).fetchall()
    cols = ["order_items_product", "orders_total_revenue", "order_items_total_quantity"]
    assert_same_rows(result.rows, want, cols, ordered=True)
    assert [f.id for f in result.fields] == cols


def test_fanout_under_table_calculation_and_post_calculation_metric(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    result = _run(
        project,
        duck,
        {
            "dimensions": ["payments_payment_method"],
            "metrics": ["orders_total_revenue", "orders_revenue_share", "payments_total_amount"],
            "tableCalculations": [
                {
                    "name": "collected",
                    "displayName": "Collected",
                    "sql": "${payments.total_amount} / NULLIF(${orders.total_revenue}, 0)",
                }
            ],
        },
    )
    want = duck.sql("""
        WITH by_order AS (
          SELECT m.payment_method, SUM(o.amount) AS rev
          FROM main.orders o LEFT JOIN (SELECT DISTINCT order_id, payment_method
                                        FROM main.payments) m ON m.order_id = o.order_id
          GROUP BY 1),
        by_payment AS (
          SELECT p.payment_method, SUM(p.amount) AS total
          FROM main.orders o LEFT JOIN main.payments p ON p.order_id = o.order_id GROUP BY 1)
        SELECT o.payment_method, rev, rev / SUM(rev) OVER (), total, total / NULLIF(rev, 0)
        FROM by_order o JOIN by_payment p ON p.payment_method IS NOT DISTINCT FROM o.payment_method
    """).fetchall()
    cols = [
        "payments_payment_method",
        "orders_total_revenue",
        "orders_revenue_share",
        "payments_total_amount",
        "collected",
    ]
    assert_same_rows(result.rows, want, cols)


def test_fanout_with_custom_bin_dimension(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    result = _run(
        project,
        duck,
        {
            "dimensions": ["amount_bin"],
            "metrics": ["orders_order_count", "orders_total_revenue", "payments_payment_count"],
            "customDimensions": [
                {
                    "id": "amount_bin",
                    "name": "Amount bin",
                    "table": "orders",
                    "type": "bin",
                    "dimensionId": "orders_amount",
                    "binType": "fixed_number",
                    "binNumber": 3,
                }
            ],
        },
    )
    got = {r["amount_bin"]: r for r in result.rows}
    [(orders, revenue)] = duck.sql("SELECT COUNT(*), SUM(amount) FROM main.orders").fetchall()
    [(payments,)] = duck.sql("SELECT COUNT(*) FROM main.payments").fetchall()
    assert sum(r["orders_order_count"] for r in got.values()) == orders
    assert sum(r["orders_total_revenue"] or 0 for r in got.values()) == pytest.approx(revenue)
    assert sum(r["payments_payment_count"] for r in got.values()) == payments


def test_unaffected_query_keeps_the_plain_shape(project: mq.Project) -> None:
    compiled = project.compile(
        mq.MetricQuery(
            explore_name="orders",
            dimensions=["customers_country"],
            metrics=["orders_total_revenue", "orders_unique_customer_count"],
        )
    )
    assert "fanout_" not in compiled.sql
    assert compiled.warnings == ()


def test_strict_mode_compiles_protected_queries(project: mq.Project) -> None:
    query = mq.MetricQuery(
        explore_name="orders", dimensions=["payments_payment_method"], metrics=CHASM_METRICS
    )
    assert project.compile(query, strict=True).warnings == ()


# ---- a small project: sum_distinct / average_distinct, missing primary key and relationship


SHOP = {
    "lines": """
        version: 2
        models:
          - name: lines
            meta:
              primary_key: line_id
              joins:
                - join: shipments
                  sql_on: ${lines.order_ref} = ${shipments.order_ref}
                  relationship: one-to-many
                - join: notes
                  sql_on: ${lines.line_id} = ${notes.line_id}
                - join: tags
                  sql_on: ${lines.order_ref} = ${tags.order_ref}
                  relationship: one-to-many
              metrics:
                collected_share:
                  type: number
                  sql: ${shipments.shipped_weight} / NULLIF(${total_price}, 0)
                order_total_per_line:
                  type: number
                  sql: ${order_total} / NULLIF(${line_count}, 0)
            columns:
              - name: line_id
                meta:
                  dimension: {type: number}
                  metrics:
                    line_count: {type: count}
              - name: order_ref
                meta: {dimension: {type: string}}
              - name: region
                meta: {dimension: {type: string}}
              - name: price
                meta:
                  dimension: {type: number}
                  metrics:
                    total_price: {type: sum}
              - name: order_amount
                meta:
                  dimension: {type: number}
                  metrics:
                    order_total:
                      type: sum_distinct
                      distinct_keys: [order_ref]
                    order_average:
                      type: average_distinct
                      distinct_keys: [order_ref]
                    big_order_total:
                      type: sum_distinct
                      distinct_keys: [order_ref]
                      filters:
                        - order_amount: '> 50'
                    region_order_total:
                      type: sum_distinct
                      sql: ${TABLE}.order_amount
                      distinct_keys: [order_ref, region]
          - name: shipments
            columns:
              - name: shipment_id
                meta: {dimension: {type: number}}
              - name: order_ref
                meta: {dimension: {type: string}}
              - name: carrier
                meta: {dimension: {type: string}}
              - name: weight
                meta:
                  dimension: {type: number}
                  metrics:
                    shipped_weight: {type: sum}
          - name: notes
            columns:
              - name: note_id
                meta: {dimension: {type: number}}
              - name: line_id
                meta: {dimension: {type: number}}
              - name: author
                meta: {dimension: {type: string}}
          - name: tags
            meta:
              primary_key: [order_ref, tag]
            columns:
              - name: order_ref
                meta: {dimension: {type: string}}
              - name: tag
                meta:
                  dimension: {type: string}
                  metrics:
                    tag_count: {type: count}
    """,
}
SEEDS = {
    "lines": """line_id,order_ref,region,price,order_amount
1,A,north,10,100
2,A,north,20,100
3,B,north,5,40
4,C,south,7,60
5,C,south,8,60
6,C,west,9,60
7,D,,3,
8,E,south,4,40
""",
    "shipments": """shipment_id,order_ref,carrier,weight
1,A,ups,1.5
2,A,dhl,2.5
3,C,ups,4
4,D,ups,1
5,E,,2
6,E,,3
""",
    "notes": """note_id,line_id,author
1,1,ann
2,1,bob
3,4,ann
""",
    "tags": """order_ref,tag
A,gift
A,rush
C,gift
""",
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[mq.Project, duckdb.DuckDBPyConnection]:
    root = make_project(tmp_path_factory.mktemp("shop"), SHOP)
    seeds = root / "seeds"
    seeds.mkdir()
    for name, text in SEEDS.items():
        (seeds / f"{name}.csv").write_text(text)
    project = mq.load_project(root)
    conn = duckdb.connect()
    project.seed(connection=conn)
    return project, conn


def _shop(
    shop: tuple[mq.Project, duckdb.DuckDBPyConnection], **kw: Any
) -> tuple[mq.QueryResult, duckdb.DuckDBPyConnection]:
    project, conn = shop
    query = mq.MetricQuery(explore_name="lines", limit=None, **kw)
    return project.run(query, connection=conn), conn


DISTINCT = ["lines_order_total", "lines_order_average", "lines_big_order_total"]


def test_sum_and_average_distinct_by_region(shop: Any) -> None:
    result, conn = _shop(
        shop,
        dimensions=["lines_region"],
        metrics=[*DISTINCT, "lines_total_price", "lines_order_total_per_line"],
    )
    want = conn.sql("""
        WITH o AS (SELECT DISTINCT region, order_ref, order_amount FROM main.lines)
        SELECT o.region, SUM(order_amount), AVG(order_amount),
               SUM(CASE WHEN order_amount > 50 THEN order_amount END), l.price,
               SUM(order_amount) / NULLIF(l.n, 0)
        FROM o JOIN (SELECT region, SUM(price) AS price, COUNT(line_id) AS n FROM main.lines
                     GROUP BY 1) l ON l.region IS NOT DISTINCT FROM o.region
        GROUP BY o.region, l.price, l.n
    """).fetchall()
    cols = ["lines_region", *DISTINCT, "lines_total_price", "lines_order_total_per_line"]
    assert_same_rows(result.rows, want, cols)


def test_sum_distinct_without_dimensions_and_with_composite_keys(shop: Any) -> None:
    metrics = [*DISTINCT, "lines_region_order_total"]
    result, conn = _shop(shop, metrics=metrics)
    want = conn.sql("""
        SELECT (SELECT SUM(order_amount) FROM (SELECT DISTINCT order_ref, order_amount
                                               FROM main.lines)),
               (SELECT AVG(order_amount) FROM (SELECT DISTINCT order_ref, order_amount
                                               FROM main.lines)),
               (SELECT SUM(order_amount) FROM (SELECT DISTINCT order_ref, order_amount
                                               FROM main.lines WHERE order_amount > 50)),
               (SELECT SUM(order_amount) FROM (SELECT DISTINCT order_ref, region, order_amount
                                               FROM main.lines))
    """).fetchall()
    assert_same_rows(result.rows, want, metrics)
    assert "ROW_NUMBER() OVER (PARTITION BY" in result.sql


def test_sum_distinct_is_immune_to_fanout_and_filters(shop: Any) -> None:
    result, conn = _shop(
        shop,
        dimensions=["shipments_carrier"],
        metrics=["lines_order_total", "lines_total_price"],
        filters={
            "dimensions": {
                "id": "g",
                "and": [
                    {
                        "id": "r",
                        "target": {"fieldId": "lines_region"},
                        "operator": "notEquals",
                        "values": ["west"],
                    }
                ],
            }
        },
    )
    want = conn.sql("""
        WITH l AS (SELECT * FROM main.lines WHERE region <> 'west' OR region IS NULL),
        j AS (SELECT s.carrier, l.* FROM l LEFT JOIN main.shipments s ON s.order_ref = l.order_ref)
        SELECT d.carrier, d.total, p.price
        FROM (SELECT carrier, SUM(order_amount) AS total
              FROM (SELECT DISTINCT carrier, order_ref, order_amount FROM j) GROUP BY 1) d
        JOIN (SELECT carrier, SUM(price) AS price
              FROM (SELECT DISTINCT carrier, line_id, price FROM j) GROUP BY 1) p
          ON p.carrier IS NOT DISTINCT FROM d.carrier
    """).fetchall()
    assert_same_rows(
        result.rows, want, ["shipments_carrier", "lines_order_total", "lines_total_price"]
    )


def test_number_metric_across_tables_is_computed_after_stitching(shop: Any) -> None:
    result, conn = _shop(shop, dimensions=["lines_region"], metrics=["lines_collected_share"])
    want = conn.sql("""
        SELECT l.region, s.w / NULLIF(l.p, 0)
        FROM (SELECT region, SUM(price) AS p FROM main.lines GROUP BY 1) l
        JOIN (SELECT l.region, SUM(s.weight) AS w FROM main.lines l
              LEFT JOIN main.shipments s ON s.order_ref = l.order_ref GROUP BY 1) s
          ON s.region IS NOT DISTINCT FROM l.region
    """).fetchall()
    assert_same_rows(result.rows, want, ["lines_region", "lines_collected_share"])


def test_composite_primary_key_is_deduplicated(shop: Any) -> None:
    """tags (primary key order_ref + tag) repeated by shipments: counted once per tag row."""
    result, conn = _shop(
        shop, dimensions=["shipments_carrier"], metrics=["tags_tag_count", "lines_line_count"]
    )
    want = conn.sql("""
        WITH j AS (SELECT s.carrier, l.line_id, t.order_ref AS t_ref, t.tag
                   FROM main.lines l
                   LEFT JOIN main.shipments s ON s.order_ref = l.order_ref
                   LEFT JOIN main.tags t ON t.order_ref = l.order_ref)
        SELECT a.carrier, a.n, b.n
        FROM (SELECT carrier, COUNT(tag) AS n
              FROM (SELECT DISTINCT carrier, t_ref, tag FROM j) GROUP BY 1) a
        JOIN (SELECT carrier, COUNT(line_id) AS n
              FROM (SELECT DISTINCT carrier, line_id FROM j) GROUP BY 1) b
          ON a.carrier IS NOT DISTINCT FROM b.carrier
    """).fetchall()
    assert_same_rows(result.rows, want, ["shipments_carrier", "tags_tag_count", "lines_line_count"])
    assert result.warnings == ()


def test_missing_primary_key_warns_and_strict_raises(shop: Any) -> None:
    project, _ = shop
    query = mq.MetricQuery(  # lines repeated by tags: fixed; shipments repeated: no primary key
        explore_name="lines",
        dimensions=["tags_tag"],
        metrics=["shipments_shipped_weight", "lines_total_price"],
    )
    compiled = project.compile(query)
    assert len(compiled.warnings) == 1
    warning = compiled.warnings[0]
    assert "shipments_shipped_weight" in warning and '"tags" (one-to-many)' in warning
    assert "primary_key" in warning
    (issue,) = compiled.issues  # the same warning as data
    assert (issue.code, issue.level, str(issue)) == ("inflated_metric", "warning", warning)
    assert issue.to_dict()["field"] == "shipments_shipped_weight"
    assert issue.where.explore == "lines" and issue.hint
    assert "fanout_lines_metrics" in compiled.sql  # the protectable metric is still protected
    with pytest.raises(mq.CompileError) as caught:
        project.compile(query, strict=True)
    assert "shipments_shipped_weight" in str(caught.value)
    assert caught.value.to_dict()["metrics"] == ["shipments_shipped_weight"]


def test_join_without_relationship_warns_only(shop: Any) -> None:
    project, _ = shop
    query = mq.MetricQuery(
        explore_name="lines", dimensions=["notes_author"], metrics=["lines_total_price"]
    )
    compiled = project.compile(query, strict=True)
    assert len(compiled.warnings) == 1
    assert 'join "notes" has no relationship' in compiled.warnings[0]
    assert [i.code for i in compiled.issues] == ["join_without_relationship"]
    assert "fanout_" not in compiled.sql


def test_explain_is_json_and_names_rewrites(shop: Any) -> None:
    import json

    project, _ = shop
    query = mq.MetricQuery(
        explore_name="lines",
        dimensions=["shipments_carrier"],
        metrics=["lines_total_price", "lines_order_total"],
    )
    explained = project.explain(query).to_dict()
    json.dumps(explained)
    assert explained["inflated_tables"] == {"lines": ["shipments"]}
    routes = {m["id"]: (m["route"], m["computed_in"]) for m in explained["metrics"]}
    assert routes == {
        "lines_total_price": ("own_grain", "fanout_lines_metrics"),
        "lines_order_total": ("distinct", "distinct_lines_order_total_metrics"),
    }
    (join,) = explained["joins"]
    assert join["reasons"] == [{"kind": "dimension", "field": "shipments_carrier"}]
    assert join["repeats"] == ["lines"]


# ---- property: an extra one-to-many join changes no metric of any group ----------------------

ORDER_METRICS = [
    "orders_order_count", "orders_returned_count", "orders_unique_customer_count",
    "orders_total_revenue", "orders_completed_revenue", "orders_average_amount",
    "orders_min_amount", "orders_max_amount", "orders_p90_amount", "orders_median_amount",
    "orders_total_shipping", "orders_average_order_value", "orders_average_order_value_rounded",
    "orders_return_rate", "orders_first_order_date", "orders_last_ordered_at",
    "orders_order_volume_band", "orders_has_returns",
]  # fmt: skip
ORDER_DIMENSIONS = [
    "orders_status", "orders_is_gift", "orders_order_date_year", "orders_amount_bucket",
    "orders_discount_code", "orders_is_big_order",
]  # fmt: skip
# A dimension of each joined table that is never NULL in its own rows: "x IS NULL OR x IS NOT
# NULL" keeps every joined row, so it only forces the join (and its fan-out) into the query.
JOIN_KEYS = {
    "payments": "payments_payment_id",
    "order_items": "order_items_order_item_id",
    "customers": "customers_customer_id",
}


def _by_group(rows: list[dict[str, Any]], dims: list[str]) -> dict[tuple[Any, ...], Any]:
    return {tuple(r[d] for d in dims): r for r in rows}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9, abs=1e-9)
    return bool(a == b)


@settings(max_examples=60, deadline=None)
@given(
    metrics=st.lists(st.sampled_from(ORDER_METRICS), min_size=1, max_size=6, unique=True),
    dims=st.lists(st.sampled_from(ORDER_DIMENSIONS), max_size=2, unique=True),
    joined=st.lists(st.sampled_from(sorted(JOIN_KEYS)), min_size=1, max_size=3, unique=True),
)
def test_extra_join_through_a_filter_never_changes_metrics(
    project: mq.Project,
    duck: duckdb.DuckDBPyConnection,
    metrics: list[str],
    dims: list[str],
    joined: list[str],
) -> None:
    plain = _run(project, duck, {"dimensions": dims, "metrics": metrics})
    forced = _run(
        project,
        duck,
        {
            "dimensions": dims,
            "metrics": metrics,
            "filters": {
                "dimensions": {
                    "id": "g",
                    "and": [
                        {
                            "id": f"j{i}",
                            "or": [
                                {
                                    "id": f"n{i}",
                                    "target": {"fieldId": JOIN_KEYS[t]},
                                    "operator": "isNull",
                                },
                                {
                                    "id": f"s{i}",
                                    "target": {"fieldId": JOIN_KEYS[t]},
                                    "operator": "notNull",
                                },
                            ],
                        }
                        for i, t in enumerate(joined)
                    ],
                }
            },
        },
    )
    assert all(f'"{t}"' in forced.sql for t in joined)  # the joins really happen
    before, after = _by_group(plain.rows, dims), _by_group(forced.rows, dims)
    assert before.keys() == after.keys()
    for group, row in before.items():
        for metric in metrics:
            assert _same(after[group][metric], row[metric]), (group, metric, forced.sql)


def test_totals_with_metric_filter_over_fanout(
    project: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "dimensions": ["payments_payment_method"],
            "metrics": ["orders_total_revenue", "payments_total_amount"],
            "filters": {
                "metrics": {
                    "id": "g",
                    "and": [
                        {
                            "id": "r",
                            "target": {"fieldId": "orders_total_revenue"},
                            "operator": "greaterThan",
                            "values": [10000],
                        }
                    ],
                }
            },
        }
    )
    totals = project.totals(query, connection=duck)
    [(revenue, paid)] = duck.sql("""
        WITH kept AS (  -- the methods whose orders' revenue passes the filter
          SELECT m.payment_method FROM main.orders o
          JOIN (SELECT DISTINCT order_id, payment_method FROM main.payments) m
            ON m.order_id = o.order_id
          GROUP BY 1 HAVING SUM(o.amount) > 10000)
        SELECT (SELECT SUM(amount) FROM main.orders WHERE order_id IN (
                  SELECT order_id FROM main.payments WHERE payment_method IN (SELECT * FROM kept))),
               (SELECT SUM(amount) FROM main.payments
                 WHERE payment_method IN (SELECT * FROM kept))
    """).fetchall()
    assert totals["orders_total_revenue"] == pytest.approx(revenue)
    assert totals["payments_total_amount"] == pytest.approx(paid)
