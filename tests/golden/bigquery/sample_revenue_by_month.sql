SELECT
  CAST(DATE_TRUNC(`orders`.order_date, MONTH) AS DATE) AS `orders_order_date_month`,
  SUM(`orders`.amount) AS `orders_total_revenue`,
  COUNT(`orders`.order_id) AS `orders_order_count`
FROM `main`.`orders` AS `orders`
WHERE
  `orders`.status = 'completed'
GROUP BY
  1
ORDER BY
  `orders_order_date_month` ASC NULLS LAST
LIMIT 500
