WITH metrics AS (
  WITH "amount_bins_cte" AS (
    SELECT
      CAST(FLOOR(MIN("orders".amount)) AS BIGINT) AS min_id,
      CAST(CEIL(MAX("orders".amount)) AS BIGINT) AS max_id,
      CAST(FLOOR(CAST((
        MAX("orders".amount) - MIN("orders".amount)
      ) AS DOUBLE) / (
        5
      )) AS BIGINT) AS bin_width
    FROM "main"."orders" AS "orders"
  )
  SELECT
    CASE
      WHEN "orders".amount IS NULL
      THEN NULL
      WHEN "orders".amount >= (
        "amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 0
        )
      )
      AND "orders".amount < (
        "amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 1
        )
      )
      THEN CONCAT(
        CAST(CAST("amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 0
        ) AS BIGINT) AS VARCHAR),
        ' - ',
        CAST(CAST("amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 1
        ) AS BIGINT) AS VARCHAR)
      )
      WHEN "orders".amount >= (
        "amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 1
        )
      )
      AND "orders".amount < (
        "amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 2
        )
      )
      THEN CONCAT(
        CAST(CAST("amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 1
        ) AS BIGINT) AS VARCHAR),
        ' - ',
        CAST(CAST("amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 2
        ) AS BIGINT) AS VARCHAR)
      )
      WHEN "orders".amount >= (
        "amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 2
        )
      )
      AND "orders".amount < (
        "amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 3
        )
      )
      THEN CONCAT(
        CAST(CAST("amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 2
        ) AS BIGINT) AS VARCHAR),
        ' - ',
        CAST(CAST("amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 3
        ) AS BIGINT) AS VARCHAR)
      )
      WHEN "orders".amount >= (
        "amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 3
        )
      )
      AND "orders".amount < (
        "amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 4
        )
      )
      THEN CONCAT(
        CAST(CAST("amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 3
        ) AS BIGINT) AS VARCHAR),
        ' - ',
        CAST(CAST("amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 4
        ) AS BIGINT) AS VARCHAR)
      )
      ELSE CONCAT(
        CAST(CAST("amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 4
        ) AS BIGINT) AS VARCHAR),
        ' - ',
        CAST(CAST("amount_bins_cte".max_id AS BIGINT) AS VARCHAR)
      )
    END AS "amount_bins",
    CASE
      WHEN "orders".amount IS NULL
      THEN 5
      WHEN "orders".amount >= (
        "amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 0
        )
      )
      AND "orders".amount < (
        "amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 1
        )
      )
      THEN 0
      WHEN "orders".amount >= (
        "amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 1
        )
      )
      AND "orders".amount < (
        "amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 2
        )
      )
      THEN 1
      WHEN "orders".amount >= (
        "amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 2
        )
      )
      AND "orders".amount < (
        "amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 3
        )
      )
      THEN 2
      WHEN "orders".amount >= (
        "amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 3
        )
      )
      AND "orders".amount < (
        "amount_bins_cte".min_id + (
          "amount_bins_cte".bin_width * 4
        )
      )
      THEN 3
      ELSE 4
    END AS "amount_bins_order",
    COUNT("orders".order_id) AS "orders_order_count"
  FROM "main"."orders" AS "orders"
  CROSS JOIN "amount_bins_cte"
  GROUP BY
    1,
    2
)
SELECT
  "amount_bins",
  "orders_order_count"
FROM metrics
ORDER BY
  "orders_order_count" DESC
