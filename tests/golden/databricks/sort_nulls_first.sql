SELECT
  `orders`.status AS `orders_status`,
  COUNT(`orders`.order_id) AS `orders_order_count`
FROM `main`.`orders` AS `orders`
GROUP BY
  1
ORDER BY
  `orders_status` ASC
