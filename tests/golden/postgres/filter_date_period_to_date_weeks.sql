SELECT
  CAST(DATE_TRUNC('DAY', "orders".order_date) AS DATE) AS "orders_order_date_day",
  COUNT("orders".order_id) AS "orders_order_count"
FROM "main"."orders" AS "orders"
WHERE
  (
    CAST(EXTRACT(epoch FROM CAST(CAST("orders".order_date AS DATE) AS TIMESTAMP) - CAST(CAST('1970-01-05' AS DATE) AS TIMESTAMP)) / 86400 AS BIGINT) % 7 + 7
  ) % 7 <= 5
GROUP BY
  1
ORDER BY
  "orders_order_date_day" DESC NULLS LAST
