WITH "fanout_orders_rows" AS (
  SELECT
    "payments".payment_method AS "payments_payment_method",
    "orders".order_id AS "__key_0"
  FROM "main"."orders" AS "orders"
  LEFT JOIN (
    SELECT DISTINCT
      "payments".payment_method,
      "payments".order_id
    FROM "main"."payments" AS "payments"
  ) AS "payments"
    ON (
      "orders".order_id
    ) = (
      "payments".order_id
    )
), "fanout_orders_metrics" AS (
  SELECT
    "payments_payment_method",
    COUNT("__key_0") AS "orders_order_count"
  FROM "fanout_orders_rows"
  GROUP BY
    1
), "joined_metrics" AS (
  SELECT
    "payments".payment_method AS "payments_payment_method",
    SUM("payments".amount) AS "payments_total_amount",
    COUNT("payments".payment_id) AS "payments_payment_count"
  FROM "main"."orders" AS "orders"
  INNER JOIN "main"."payments" AS "payments"
    ON (
      "orders".order_id
    ) = (
      "payments".order_id
    )
  GROUP BY
    1
)
SELECT
  "fanout_orders_metrics"."payments_payment_method" AS "payments_payment_method",
  "joined_metrics"."payments_total_amount" AS "payments_total_amount",
  COALESCE("joined_metrics"."payments_payment_count", 0) AS "payments_payment_count",
  "fanout_orders_metrics"."orders_order_count" AS "orders_order_count"
FROM "fanout_orders_metrics"
LEFT JOIN "joined_metrics"
  ON "fanout_orders_metrics"."payments_payment_method" IS NOT DISTINCT FROM "joined_metrics"."payments_payment_method"
ORDER BY
  "payments_total_amount" DESC NULLS LAST
