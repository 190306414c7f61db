SELECT
  "customers".is_vip AS "customers_is_vip",
  COUNT(DISTINCT "customers".customer_id) AS "customers_customer_count"
FROM "main"."customers" AS "customers"
WHERE
  (
    "customers".is_vip <> TRUE OR "customers".is_vip IS NULL
  )
GROUP BY
  1
ORDER BY
  "customers_customer_count" DESC NULLS LAST
