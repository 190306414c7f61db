SELECT
  CAST(DATE_TRUNC('DAY', "orders".order_date) AS DATE) AS "orders_order_date_day",
  CAST(DATE_TRUNC('WEEK', "orders".order_date) AS DATE) AS "orders_order_date_week",
  CAST(DATE_TRUNC('MONTH', "orders".order_date) AS DATE) AS "orders_order_date_month",
  CAST(DATE_TRUNC('QUARTER', "orders".order_date) AS DATE) AS "orders_order_date_quarter",
  CAST(DATE_TRUNC('YEAR', "orders".order_date) AS DATE) AS "orders_order_date_year",
  EXTRACT(DAYOFWEEK FROM "orders".order_date) AS "orders_order_date_day_of_week_index",
  EXTRACT(DAY FROM "orders".order_date) AS "orders_order_date_day_of_month_num",
  EXTRACT(DAYOFYEAR FROM "orders".order_date) AS "orders_order_date_day_of_year_num",
  EXTRACT(WEEK FROM "orders".order_date) AS "orders_order_date_week_num",
  EXTRACT(MONTH FROM "orders".order_date) AS "orders_order_date_month_num",
  EXTRACT(QUARTER FROM "orders".order_date) AS "orders_order_date_quarter_num",
  EXTRACT(YEAR FROM "orders".order_date) AS "orders_order_date_year_num",
  STRFTIME("orders".order_date, '%A') AS "orders_order_date_day_of_week_name",
  STRFTIME("orders".order_date, '%B') AS "orders_order_date_month_name",
  'Q' || CAST(EXTRACT(QUARTER FROM "orders".order_date) AS TEXT) AS "orders_order_date_quarter_name",
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
  "orders_order_date_day" DESC
