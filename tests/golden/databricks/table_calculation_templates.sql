WITH metrics AS (
  SELECT
    `orders`.status AS `orders_status`,
    COUNT(`orders`.order_id) AS `orders_order_count`,
    SUM(`orders`.amount) AS `orders_total_revenue`
  FROM `main`.`orders` AS `orders`
  GROUP BY
    1
), table_calculations_0 AS (
  SELECT
    *,
    SUM(`orders_order_count`) OVER (
      ORDER BY `orders_order_count` DESC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `running`,
    RANK() OVER (ORDER BY `orders_total_revenue` ASC NULLS LAST) AS `ranked`,
    CAST(`orders_total_revenue` AS DOUBLE) / CAST(NULLIF(SUM(`orders_total_revenue`) OVER (), 0) AS DOUBLE) AS `pct`,
    CAST(`orders_order_count` AS DOUBLE) / CAST(NULLIF(LAG(`orders_order_count`) OVER (ORDER BY `orders_order_count` DESC), 0) AS DOUBLE) - 1 AS `change`
  FROM metrics
)
SELECT
  `orders_status`,
  `orders_order_count`,
  `orders_total_revenue`,
  `running`,
  `ranked`,
  `pct`,
  `change`
FROM table_calculations_0
ORDER BY
  `orders_order_count` DESC
