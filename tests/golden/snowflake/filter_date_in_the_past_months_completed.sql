SELECT
  CAST(DATE_TRUNC('DAY', "orders".order_date) AS DATE) AS "orders_order_date_day",
  COUNT("orders".order_id) AS "orders_order_count"
FROM "main"."orders" AS "orders"
WHERE
  (
    "orders".order_date >= CAST('2024-03-01' AS DATE)
    AND "orders".order_date < CAST('2024-06-01' AS DATE)
  )
GROUP BY
  1
ORDER BY
  "orders_order_date_day" DESC NULLS LAST
