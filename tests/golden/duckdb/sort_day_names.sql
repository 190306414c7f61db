WITH metrics AS (
  SELECT
    STRFTIME("orders".order_date, '%A') AS "orders_order_date_day_of_week_name",
    COUNT("orders".order_id) AS "orders_order_count"
  FROM "main"."orders" AS "orders"
  GROUP BY
    1
)
SELECT
  "orders_order_date_day_of_week_name",
  "orders_order_count"
FROM metrics
ORDER BY
  CASE
    WHEN "orders_order_date_day_of_week_name" = 'Sunday'
    THEN 1
    WHEN "orders_order_date_day_of_week_name" = 'Monday'
    THEN 2
    WHEN "orders_order_date_day_of_week_name" = 'Tuesday'
    THEN 3
    WHEN "orders_order_date_day_of_week_name" = 'Wednesday'
    THEN 4
    WHEN "orders_order_date_day_of_week_name" = 'Thursday'
    THEN 5
    WHEN "orders_order_date_day_of_week_name" = 'Friday'
    THEN 6
    WHEN "orders_order_date_day_of_week_name" = 'Saturday'
    THEN 7
    ELSE NULL
  END ASC
