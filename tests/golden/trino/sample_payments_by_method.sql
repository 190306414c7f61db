SELECT
  "payments".payment_method AS "payments_payment_method",
  "payments".status AS "payments_status",
  SUM("payments".amount) AS "payments_total_amount",
  COUNT("payments".payment_id) AS "payments_payment_count",
  COUNT(DISTINCT "payments".order_id) AS "payments_paid_order_count"
FROM "main"."payments" AS "payments"
WHERE
  (
    "payments".amount > 0
  ) AND "payments".amount > 0
GROUP BY
  1,
  2
ORDER BY
  "payments_total_amount" DESC
LIMIT 100
