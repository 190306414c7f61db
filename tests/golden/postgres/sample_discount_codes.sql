SELECT
  "orders".discount_code AS "orders_discount_code",
  COUNT("orders".order_id) AS "orders_order_count",
  SUM("orders".amount) AS "orders_total_revenue"
FROM "main"."orders" AS "orders"
WHERE
  (
    NOT "orders".discount_code IS NULL
    AND (
      NOT "orders".discount_code IN ('''); DROP TABLE orders; --', '50%')
      OR "orders".discount_code IS NULL
    )
  )
GROUP BY
  1
ORDER BY
  "orders_discount_code" ASC
LIMIT 500
