SELECT
  EXTRACT(DAYOFWEEK FROM `orders`.order_date) - 1 AS `orders_order_date_day_of_week_index`,
  FORMAT_DATE('%A', `orders`.order_date) AS `orders_order_date_day_of_week_name`,
  COUNT(`orders`.order_id) AS `orders_order_count`,
  SUM(`orders`.amount) AS `orders_total_revenue`
FROM `main`.`orders` AS `orders`
WHERE
  (
    `orders`.order_date >= '2024-01-01'
    AND (
      (
        `orders`.amount
      ) > 100
    ) = TRUE
  )
GROUP BY
  1,
  2
ORDER BY
  `orders_order_date_day_of_week_index` ASC NULLS LAST
LIMIT 500
