SELECT
  EXTRACT(DAYOFWEEK FROM "orders".order_date) AS "orders_order_date_day_of_week_index",
  STRFTIME("orders".order_date, '%A') AS "orders_order_date_day_of_week_name",
  COUNT("orders".order_id) AS "orders_order_count",
  SUM("orders".amount) AS "orders_total_revenue"
FROM "main"."orders" AS "orders"
WHERE
  (
    "orders".order_date >= CAST('2024-01-01' AS DATE)
    AND (
      (
        "orders".amount
      ) > 100
    ) = TRUE
  )
GROUP BY
  1,
  2
ORDER BY
  "orders_order_date_day_of_week_index" ASC
LIMIT 500
