SELECT
  CAST(DATE_TRUNC('DAY', "orders".order_date) AS DATE) AS "orders_order_date_day",
  COUNT("orders".order_id) AS "orders_order_count"
FROM "main"."orders" AS "orders"
WHERE
  (
    DATEDIFF(DAY, CAST('1970-01-05' AS DATE), CAST("orders".order_date AS DATE)) % 7 + 7
  ) % 7 <= 5
GROUP BY
  1
ORDER BY
  "orders_order_date_day" DESC NULLS LAST
