SELECT
  "payments".created_at AS "payments_created_at_raw",
  DATE_TRUNC('HOUR', "payments".created_at) AS "payments_created_at_hour",
  DATE_TRUNC('MINUTE', "payments".created_at) AS "payments_created_at_minute",
  DATE_TRUNC('SECOND', "payments".created_at) AS "payments_created_at_second",
  DATE_TRUNC('MILLISECOND', "payments".created_at) AS "payments_created_at_millisecond",
  DATE_PART(HOUR, "payments".created_at) AS "payments_created_at_hour_of_day_num",
  DATE_PART(MINUTE, "payments".created_at) AS "payments_created_at_minute_of_hour_num",
  CAST(DATE_TRUNC('DAY', "payments".created_at) AS DATE) AS "payments_created_at_day",
  COUNT("payments".payment_id) AS "payments_payment_count"
FROM "main"."payments" AS "payments"
WHERE
  (
    "payments".amount > 0
  )
GROUP BY
  1,
  2,
  3,
  4,
  5,
  6,
  7,
  8
ORDER BY
  "payments_created_at_raw" DESC NULLS LAST
