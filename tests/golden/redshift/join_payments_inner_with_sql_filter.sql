WITH "joined_metrics" AS (
  SELECT
    "orders".status AS "orders_status",
    SUM("payments".amount) AS "payments_total_amount",
    COUNT("payments".payment_id) AS "payments_payment_count"
  FROM "main"."payments" AS "payments"
  INNER JOIN "main"."orders" AS "orders"
    ON (
      "payments".order_id
    ) = (
      "orders".order_id
    )
  WHERE
    (
      "payments".amount > 0
    )
  GROUP BY
    1
), "fanout_orders_rows" AS (
  SELECT DISTINCT
    "orders".status AS "orders_status",
    "orders".order_id AS "__key_0"
  FROM "main"."payments" AS "payments"
  INNER JOIN "main"."orders" AS "orders"
    ON (
      "payments".order_id
    ) = (
      "orders".order_id
    )
  WHERE
    (
      "payments".amount > 0
    )
), "fanout_orders_metrics" AS (
  SELECT
    "orders_status",
    COUNT("__key_0") AS "orders_order_count"
  FROM "fanout_orders_rows"
  GROUP BY
    1
)
SELECT
  "joined_metrics"."orders_status" AS "orders_status",
  "joined_metrics"."payments_total_amount" AS "payments_total_amount",
  "joined_metrics"."payments_payment_count" AS "payments_payment_count",
  "fanout_orders_metrics"."orders_order_count" AS "orders_order_count"
FROM "joined_metrics"
INNER JOIN "fanout_orders_metrics"
  ON (
    "joined_metrics"."orders_status" = "fanout_orders_metrics"."orders_status"
    OR (
      "joined_metrics"."orders_status" IS NULL
      AND "fanout_orders_metrics"."orders_status" IS NULL
    )
  )
ORDER BY
  "payments_total_amount" DESC NULLS LAST
