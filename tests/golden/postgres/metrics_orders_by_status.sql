SELECT
  "orders".status AS "orders_status",
  COUNT("orders".order_id) AS "orders_order_count",
  COUNT(CASE WHEN "orders".status = 'returned' THEN "orders".order_id END) AS "orders_returned_count",
  COUNT(DISTINCT "orders".customer_id) AS "orders_unique_customer_count",
  SUM("orders".amount) AS "orders_total_revenue",
  SUM(CASE WHEN "orders".status = 'completed' THEN "orders".amount END) AS "orders_completed_revenue",
  AVG("orders".amount) AS "orders_average_amount",
  MIN("orders".amount) AS "orders_min_amount",
  MAX("orders".amount) AS "orders_max_amount",
  PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY
    "orders".amount) AS "orders_p90_amount",
  PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
    "orders".amount) AS "orders_median_amount",
  SUM("orders".shipping_cost) AS "orders_total_shipping",
  CAST((
    SUM("orders".amount)
  ) AS DOUBLE PRECISION) / NULLIF((
    COUNT("orders".order_id)
  ), 0) AS "orders_average_order_value",
  ROUND(
    CAST((
      CAST((
        SUM("orders".amount)
      ) AS DOUBLE PRECISION) / NULLIF((
        COUNT("orders".order_id)
      ), 0)
    ) AS DECIMAL),
    0
  ) AS "orders_average_order_value_rounded",
  CAST(1.0 * (
    COUNT(CASE WHEN "orders".status = 'returned' THEN "orders".order_id END)
  ) AS DOUBLE PRECISION) / NULLIF((
    COUNT("orders".order_id)
  ), 0) AS "orders_return_rate",
  MIN("orders".order_date) AS "orders_first_order_date",
  MAX((
    "orders".ordered_at
  )) AS "orders_last_ordered_at",
  CASE
    WHEN (
      COUNT("orders".order_id)
    ) >= 100
    THEN 'high'
    WHEN (
      COUNT("orders".order_id)
    ) >= 20
    THEN 'medium'
    ELSE 'low'
  END AS "orders_order_volume_band",
  (
    COUNT(CASE WHEN "orders".status = 'returned' THEN "orders".order_id END)
  ) > 0 AS "orders_has_returns"
FROM "main"."orders" AS "orders"
GROUP BY
  1
ORDER BY
  "orders_order_count" DESC NULLS LAST
