SELECT
  "orders".status AS "orders_status",
  AVG("order_items".quantity) AS "order_items_average_quantity",
  PERCENTILE_CONT(0.25) WITHIN GROUP (ORDER BY
    "order_items".quantity) AS "order_items_p25_quantity"
FROM "main"."orders" AS "orders"
LEFT JOIN "main"."order_items" AS "order_items"
  ON (
    "orders".order_id
  ) = (
    "order_items".order_id
  )
GROUP BY
  1
ORDER BY
  "order_items_average_quantity" DESC NULLS LAST
