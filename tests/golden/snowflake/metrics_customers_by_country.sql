SELECT
  "customers".country AS "customers_country",
  COUNT(DISTINCT "customers".customer_id) AS "customers_customer_count",
  COUNT(DISTINCT CASE WHEN "customers".is_vip = TRUE THEN "customers".customer_id END) AS "customers_vip_customer_count",
  1.0 * (
    COUNT(DISTINCT CASE WHEN "customers".is_vip = TRUE THEN "customers".customer_id END)
  ) / NULLIF((
    COUNT(DISTINCT "customers".customer_id)
  ), 0) AS "customers_vip_share",
  AVG("customers".lifetime_score) AS "customers_average_lifetime_score",
  MEDIAN("customers".lifetime_score) AS "customers_median_lifetime_score",
  MAX("customers".lifetime_score) AS "customers_max_lifetime_score",
  MIN((
    "customers".signup_date
  )) AS "customers_first_signup_date"
FROM "main"."customers" AS "customers"
GROUP BY
  1
ORDER BY
  "customers_customer_count" DESC NULLS LAST
