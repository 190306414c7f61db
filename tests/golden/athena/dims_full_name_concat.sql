SELECT
  CONCAT(
    CAST("customers".first_name AS VARCHAR),
    CAST(' ' AS VARCHAR),
    CAST("customers".last_name AS VARCHAR)
  ) AS "customers_full_name",
  "customers".email AS "customers_email",
  COUNT(DISTINCT "customers".customer_id) AS "customers_customer_count"
FROM "main"."customers" AS "customers"
GROUP BY
  1,
  2
ORDER BY
  "customers_customer_count" DESC
