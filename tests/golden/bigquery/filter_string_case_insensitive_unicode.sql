SELECT
  `customers`.first_name AS `customers_first_name`,
  COUNT(DISTINCT `customers`.customer_id) AS `customers_customer_count`
FROM `main`.`customers` AS `customers`
WHERE
  (
    STARTS_WITH(UPPER(`customers`.first_name), UPPER('åsa'))
    OR STARTS_WITH(UPPER(`customers`.first_name), UPPER('zoë'))
    OR STARTS_WITH(UPPER(`customers`.first_name), UPPER('søren'))
  )
GROUP BY
  1
ORDER BY
  `customers_customer_count` DESC
