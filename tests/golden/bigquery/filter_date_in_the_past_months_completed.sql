SELECT
  CAST(DATE_TRUNC(`orders`.order_date, DAY) AS DATE) AS `orders_order_date_day`,
  COUNT(`orders`.order_id) AS `orders_order_count`
FROM `main`.`orders` AS `orders`
WHERE
  (
    `orders`.order_date >= '2024-03-01' AND `orders`.order_date < '2024-06-01'
  )
GROUP BY
  1
ORDER BY
  `orders_order_date_day` DESC
