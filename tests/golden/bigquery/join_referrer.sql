SELECT
  `referrer`.country AS `referrer_country`,
  `referrer`.first_name AS `referrer_first_name`,
  `referrer`.email AS `referrer_email`,
  COUNT(`orders`.order_id) AS `orders_order_count`,
  SUM(`orders`.amount) AS `orders_total_revenue`
FROM `main`.`orders` AS `orders`
LEFT JOIN `main`.`customers` AS `customers`
  ON (
    `orders`.customer_id
  ) = (
    `customers`.customer_id
  )
LEFT JOIN `main`.`customers` AS `referrer`
  ON (
    `customers`.referrer_id
  ) = (
    `referrer`.customer_id
  )
GROUP BY
  1,
  2,
  3
ORDER BY
  `orders_order_count` DESC
