SELECT
  `orders`.discount_code AS `orders_discount_code`,
  COUNT(`orders`.order_id) AS `orders_order_count`
FROM `main`.`orders` AS `orders`
WHERE
  INSTR(`orders`.discount_code, 'a_b') > 0
GROUP BY
  1
ORDER BY
  `orders_order_count` DESC
