WITH metrics AS (
  SELECT
    "orders".status AS "orders_status",
    COUNT("orders".order_id) AS "orders_order_count",
    AVG("orders".amount) AS "orders_average_amount"
  FROM "main"."orders" AS "orders"
  GROUP BY
    1
), metric_filters AS (
  SELECT
    *
  FROM metrics
  WHERE
    (
      "orders_order_count" < 100
      OR (
        "orders_average_amount" >= 80 AND "orders_average_amount" <= 90
      )
    )
)
SELECT
  "orders_status",
  "orders_order_count",
  "orders_average_amount"
FROM metric_filters
ORDER BY
  "orders_order_count" DESC NULLS LAST
