SELECT
  CAST(DATE_TRUNC(`orders`.order_date, DAY) AS DATE) AS `orders_order_date_day`,
  COUNT(`orders`.order_id) AS `orders_order_count`
FROM `main`.`orders` AS `orders`
WHERE
  MOD(
    MOD(DATE_DIFF(CAST(`orders`.order_date AS DATE), CAST('1970-01-05' AS DATE), DAY), 7) + 7,
    7
  ) <= 5
GROUP BY
  1
ORDER BY
  `orders_order_date_day` DESC
