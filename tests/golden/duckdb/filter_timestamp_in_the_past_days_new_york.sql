SELECT
  DATE_TRUNC('HOUR', "payments".created_at) AS "payments_created_at_hour",
  COUNT("payments".payment_id) AS "payments_payment_count"
FROM "main"."payments" AS "payments"
WHERE
  (
    "payments".amount > 0
  )
  AND (
    "payments".created_at >= CAST('2024-06-13 12:34:56' AS TIMESTAMP)
    AND "payments".created_at <= CAST('2024-06-15 12:34:56' AS TIMESTAMP)
  )
GROUP BY
  1
ORDER BY
  "payments_created_at_hour" DESC
