SELECT
  "customers".country AS "customers_country",
  SUM("orders".amount) AS "orders_total_revenue",
  COUNT("orders".order_id) AS "orders_order_count",
  CAST((
    SUM("orders".amount)
  ) AS DOUBLE PRECISION) / NULLIF((
    COUNT("orders".order_id)
  ), 0) AS "orders_average_order_value"
FROM "main"."orders" AS "orders"
LEFT JOIN "main"."customers" AS "customers"
  ON (
    "orders".customer_id
  ) = (
    "customers".customer_id
  )
GROUP BY
  1
ORDER BY
  "orders_total_revenue" DESC NULLS LAST
LIMIT 500
