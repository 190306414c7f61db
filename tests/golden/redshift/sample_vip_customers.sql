SELECT
  "customers".country AS "customers_country",
  COUNT(DISTINCT "customers".customer_id) AS "customers_customer_count",
  AVG("customers".lifetime_score) AS "customers_average_lifetime_score"
FROM "main"."customers" AS "customers"
WHERE
  (
    "customers".is_vip = TRUE AND NOT "customers".country IS NULL
  )
GROUP BY
  1
ORDER BY
  "customers_customer_count" DESC NULLS LAST,
  "customers_country" ASC
LIMIT 50
