SELECT
  "orders".discount_code AS "orders_discount_code",
  COUNT("orders".order_id) AS "orders_order_count"
FROM "main"."orders" AS "orders"
WHERE
  "orders".discount_code LIKE '%a!_b%' ESCAPE '!'
GROUP BY
  1
ORDER BY
  "orders_order_count" DESC
