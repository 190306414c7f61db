SELECT
  CAST(DATE_TRUNC('DAY', "orders".order_date) AS DATE) AS "orders_order_date_day",
  CAST(DATE_TRUNC('WEEK', "orders".order_date) AS DATE) AS "orders_order_date_week",
  CAST(DATE_TRUNC('MONTH', "orders".order_date) AS DATE) AS "orders_order_date_month",
  CAST(DATE_TRUNC('QUARTER', "orders".order_date) AS DATE) AS "orders_order_date_quarter",
  CAST(DATE_TRUNC('YEAR', "orders".order_date) AS DATE) AS "orders_order_date_year",
  DATE_PART(DAYOFWEEKISO, "orders".order_date) % 7 AS "orders_order_date_day_of_week_index",
  DATE_PART(DAY, "orders".order_date) AS "orders_order_date_day_of_month_num",
  DATE_PART(DAYOFYEAR, "orders".order_date) AS "orders_order_date_day_of_year_num",
  DATE_PART(WEEKISO, "orders".order_date) AS "orders_order_date_week_num",
  DATE_PART(MONTH, "orders".order_date) AS "orders_order_date_month_num",
  DATE_PART(QUARTER, "orders".order_date) AS "orders_order_date_quarter_num",
  DATE_PART(YEAR, "orders".order_date) AS "orders_order_date_year_num",
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
  TO_CHAR("orders".order_date, 'mmmm') AS "orders_order_date_month_name",
  'Q' || CAST(DATE_PART(QUARTER, "orders".order_date) AS VARCHAR) AS "orders_order_date_quarter_name",
  COUNT("orders".order_id) AS "orders_order_count"
FROM "main"."orders" AS "orders"
GROUP BY
  1,
  2,
  3,
  4,
  5,
  6,
  7,
  8,
  9,
  10,
  11,
  12,
  13,
  14,
  15
ORDER BY
  "orders_order_date_day" DESC NULLS LAST
