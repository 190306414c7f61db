WITH metrics AS (
  SELECT
    `orders`.status AS `orders_status`,
    COUNT(`orders`.order_id) AS `orders_order_count`,
    (
      SUM(`orders`.amount)
    ) / NULLIF((
      COUNT(`orders`.order_id)
    ), 0) AS `orders_average_order_value`,
    ROUND(
      (
        (
          SUM(`orders`.amount)
        ) / NULLIF((
          COUNT(`orders`.order_id)
        ), 0)
      ),
      0
    ) AS `orders_average_order_value_rounded`,
    APPROX_QUANTILES(`orders`.amount, 10)[9] AS `orders_p90_amount`,
    APPROX_QUANTILES(`orders`.amount, 2)[1] AS `orders_median_amount`
  FROM `main`.`orders` AS `orders`
  WHERE
    (
      NOT `orders`.amount IS NULL
      AND (
        `orders`.order_date >= '2024-01-01' AND `orders`.order_date <= '2024-12-31'
      )
      AND (
        `orders`.status <> 'placed' OR `orders`.status IS NULL
      )
    )
  GROUP BY
    1
), metric_filters AS (
  SELECT
    *
  FROM metrics
  WHERE
    `orders_order_count` >= 10
)
SELECT
  `orders_status`,
  `orders_order_count`,
  `orders_average_order_value`,
  `orders_average_order_value_rounded`,
  `orders_p90_amount`,
  `orders_median_amount`
FROM metric_filters
ORDER BY
  `orders_average_order_value` DESC
LIMIT 500
