WITH metrics AS (
  SELECT
    "orders".status AS "orders_status",
    COUNT("orders".order_id) AS "orders_order_count",
    CAST((
      SUM("orders".amount)
    ) AS DOUBLE PRECISION) / NULLIF((
      COUNT("orders".order_id)
    ), 0) AS "orders_average_order_value",
    ROUND(
      (
        CAST((
          SUM("orders".amount)
        ) AS DOUBLE PRECISION) / NULLIF((
          COUNT("orders".order_id)
        ), 0)
      ),
      0
    ) AS "orders_average_order_value_rounded",
    PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY
      "orders".amount) AS "orders_p90_amount",
    MEDIAN("orders".amount) AS "orders_median_amount"
  FROM "main"."orders" AS "orders"
  WHERE
    (
      NOT "orders".amount IS NULL
      AND (
        "orders".order_date >= CAST('2024-01-01' AS DATE)
        AND "orders".order_date <= CAST('2024-12-31' AS DATE)
      )
      AND (
        "orders".status <> 'placed' OR "orders".status IS NULL
      )
    )
  GROUP BY
    1
), metric_filters AS (
  SELECT
    *
  FROM metrics
  WHERE
    "orders_order_count" >= 10
)
SELECT
  "orders_status",
  "orders_order_count",
  "orders_average_order_value",
  "orders_average_order_value_rounded",
  "orders_p90_amount",
  "orders_median_amount"
FROM metric_filters
ORDER BY
  "orders_average_order_value" DESC NULLS LAST
LIMIT 500
