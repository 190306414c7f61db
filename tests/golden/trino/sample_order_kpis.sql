SELECT
  COUNT("orders".order_id) AS "orders_order_count",
  SUM("orders".amount) AS "orders_total_revenue",
  SUM(CASE WHEN "orders".status = 'completed' THEN "orders".amount END) AS "orders_completed_revenue",
  CAST((
    SUM("orders".amount)
  ) AS DOUBLE) / NULLIF((
    COUNT("orders".order_id)
  ), 0) AS "orders_average_order_value",
  CAST(1.0 * (
    COUNT(CASE WHEN "orders".status = 'returned' THEN "orders".order_id END)
  ) AS DOUBLE) / NULLIF((
    COUNT("orders".order_id)
  ), 0) AS "orders_return_rate",
  (
    COUNT(CASE WHEN "orders".status = 'returned' THEN "orders".order_id END)
  ) > 0 AS "orders_has_returns",
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
  END AS "orders_order_volume_band"
FROM "main"."orders" AS "orders"
LIMIT 1
