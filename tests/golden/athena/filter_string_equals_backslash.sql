SELECT
  "customers".last_name AS "customers_last_name",
  COUNT(DISTINCT "customers".customer_id) AS "customers_customer_count"
FROM "main"."customers" AS "customers"
WHERE
  "customers".last_name = 'Slash\Name'
GROUP BY
  1
ORDER BY
  "customers_customer_count" DESC
