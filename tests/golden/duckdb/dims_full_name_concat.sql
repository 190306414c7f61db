SELECT
  "customers".first_name || ' ' || "customers".last_name AS "customers_full_name",
  "customers".email AS "customers_email",
  COUNT(DISTINCT "customers".customer_id) AS "customers_customer_count"
FROM "main"."customers" AS "customers"
GROUP BY
  1,
  2
ORDER BY
  "customers_customer_count" DESC
