SELECT
  (
    `orders`.order_id
  ) / 400 AS `id_bucket`,
  COUNT(`orders`.order_id) AS `orders_order_count`
FROM `main`.`orders` AS `orders`
GROUP BY
  1
ORDER BY
  `orders_order_count` DESC
