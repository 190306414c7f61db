WITH "fanout_orders_rows" AS (
  SELECT
    "payments".payment_method AS "payments_payment_method",
    "orders".order_id AS "__key_0",
    "payments"."__partial_0" AS "__partial_0",
    "payments"."__partial_1" AS "__partial_1"
  FROM "main"."orders" AS "orders"
  LEFT JOIN (
    SELECT
      "payments".payment_method AS payment_method,
      "payments".order_id AS order_id,
      SUM("payments".amount) AS "__partial_0",
      COUNT("payments".payment_id) AS "__partial_1"
    FROM "main"."payments" AS "payments"
    GROUP BY
      1,
      2
  ) AS "payments"
    ON (
      "orders".order_id
    ) = (
      "payments".order_id
    )
), "fanout_orders_metrics" AS (
  SELECT
    "payments_payment_method",
    COUNT("__key_0") AS "orders_order_count",
    SUM("__partial_0") AS "payments_total_amount",
    COALESCE(SUM("__partial_1"), 0) AS "payments_payment_count"
  FROM "fanout_orders_rows"
  GROUP BY
    1
)
SELECT
  "fanout_orders_metrics"."payments_payment_method" AS "payments_payment_method",
  "fanout_orders_metrics"."payments_total_amount" AS "payments_total_amount",
  "fanout_orders_metrics"."payments_payment_count" AS "payments_payment_count",
  "fanout_orders_metrics"."orders_order_count" AS "orders_order_count"
FROM "fanout_orders_metrics"
ORDER BY
  "payments_total_amount" DESC
