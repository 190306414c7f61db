SELECT
  CAST(DATE_TRUNC('MONTH', "orders".order_date) AS DATE) AS "orders_order_date_month",
  SUM("orders".amount) AS "orders_total_revenue",
  COUNT("orders".order_id) AS "orders_order_count"
FROM "main"."orders" AS "orders"
WHERE
  "orders".status = 'completed'
GROUP BY
  1
ORDER BY
  "orders_order_date_month" ASC
LIMIT 500
