SELECT
  `customers`.last_name AS `customers_last_name`,
  COUNT(DISTINCT `customers`.customer_id) AS `customers_customer_count`
FROM `main`.`customers` AS `customers`
WHERE
  (
    STARTS_WITH(`customers`.last_name, 'O\'')
    OR STARTS_WITH(`customers`.last_name, 'D\'')
  )
GROUP BY
  1
ORDER BY
  `customers_customer_count` DESC
