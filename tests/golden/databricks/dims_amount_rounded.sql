SELECT
  ROUND(`orders`.amount, 0) AS `orders_amount_rounded`,
  COUNT(`orders`.order_id) AS `orders_order_count`
FROM `main`.`orders` AS `orders`
GROUP BY
  1
ORDER BY
  `orders_order_count` DESC
