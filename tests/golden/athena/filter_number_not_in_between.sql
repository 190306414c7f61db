SELECT
  "customers".lifetime_score AS "customers_lifetime_score",
  COUNT(DISTINCT "customers".customer_id) AS "customers_customer_count"
FROM "main"."customers" AS "customers"
WHERE
  (
    NOT (
      "customers".lifetime_score >= 100 AND "customers".lifetime_score <= 500
    )
    OR "customers".lifetime_score IS NULL
  )
GROUP BY
  1
ORDER BY
  "customers_customer_count" DESC
