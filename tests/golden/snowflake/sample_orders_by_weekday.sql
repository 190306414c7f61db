SELECT
  DATE_PART(DAYOFWEEKISO, "orders".order_date) % 7 AS "orders_order_date_day_of_week_index",
  CASE DATE_PART(DAYOFWEEKISO, "orders".order_date)
    WHEN 1
    THEN 'Monday'
    WHEN 2
    THEN 'Tuesday'
    WHEN 3
    THEN 'Wednesday'
    WHEN 4
    THEN 'Thursday'
    WHEN 5
    THEN 'Friday'
    WHEN 6
    THEN 'Saturday'
    WHEN 7
    THEN 'Sunday'
  END AS "orders_order_date_day_of_week_name",
  COUNT("orders".order_id) AS "orders_order_count",
  SUM("orders".amount) AS "orders_total_revenue"
FROM "main"."orders" AS "orders"
WHERE
  (
    "orders".order_date >= CAST('2024-01-01' AS DATE)
    AND (
      (
        "orders".amount
      ) > 100
    ) = TRUE
  )
GROUP BY
  1,
  2
ORDER BY
  "orders_order_date_day_of_week_index" ASC
LIMIT 500
