WITH `joined_metrics` AS (
  SELECT
    `payments`.payment_method AS `payments_payment_method`,
    SUM(`payments`.amount) AS `payments_total_amount`,
    COUNT(`payments`.payment_id) AS `payments_payment_count`
  FROM `main`.`orders` AS `orders`
  LEFT JOIN `main`.`payments` AS `payments`
    ON (
      `orders`.order_id
    ) = (
      `payments`.order_id
    )
  GROUP BY
    1
), `fanout_orders_rows` AS (
  SELECT DISTINCT
    `payments`.payment_method AS `payments_payment_method`,
    `orders`.order_id AS `__key_0`
  FROM `main`.`orders` AS `orders`
  LEFT JOIN `main`.`payments` AS `payments`
    ON (
      `orders`.order_id
    ) = (
      `payments`.order_id
    )
), `fanout_orders_metrics` AS (
  SELECT
    `payments_payment_method`,
    COUNT(`__key_0`) AS `orders_order_count`
  FROM `fanout_orders_rows`
  GROUP BY
    1
)
SELECT
  `joined_metrics`.`payments_payment_method` AS `payments_payment_method`,
  `joined_metrics`.`payments_total_amount` AS `payments_total_amount`,
  `joined_metrics`.`payments_payment_count` AS `payments_payment_count`,
  `fanout_orders_metrics`.`orders_order_count` AS `orders_order_count`
FROM `joined_metrics`
INNER JOIN `fanout_orders_metrics`
  ON `joined_metrics`.`payments_payment_method` IS NOT DISTINCT FROM `fanout_orders_metrics`.`payments_payment_method`
ORDER BY
  `payments_total_amount` DESC
