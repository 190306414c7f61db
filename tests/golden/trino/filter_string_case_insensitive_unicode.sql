SELECT
  "customers".first_name AS "customers_first_name",
  COUNT(DISTINCT "customers".customer_id) AS "customers_customer_count"
FROM "main"."customers" AS "customers"
WHERE
  (
    UPPER("customers".first_name) LIKE UPPER('åsa%') ESCAPE '!'
    OR UPPER("customers".first_name) LIKE UPPER('zoë%') ESCAPE '!'
    OR UPPER("customers".first_name) LIKE UPPER('søren%') ESCAPE '!'
  )
GROUP BY
  1
ORDER BY
  "customers_customer_count" DESC
