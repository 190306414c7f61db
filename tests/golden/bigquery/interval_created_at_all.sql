SELECT
  `payments`.created_at AS `payments_created_at_raw`,
  TIMESTAMP_TRUNC(`payments`.created_at, HOUR) AS `payments_created_at_hour`,
  TIMESTAMP_TRUNC(`payments`.created_at, MINUTE) AS `payments_created_at_minute`,
  TIMESTAMP_TRUNC(`payments`.created_at, SECOND) AS `payments_created_at_second`,
  TIMESTAMP_TRUNC(`payments`.created_at, MILLISECOND) AS `payments_created_at_millisecond`,
  EXTRACT(HOUR FROM `payments`.created_at) AS `payments_created_at_hour_of_day_num`,
  EXTRACT(MINUTE FROM `payments`.created_at) AS `payments_created_at_minute_of_hour_num`,
  CAST(TIMESTAMP_TRUNC(`payments`.created_at, DAY) AS DATE) AS `payments_created_at_day`,
  COUNT(`payments`.payment_id) AS `payments_payment_count`
FROM `main`.`payments` AS `payments`
WHERE
  (
    `payments`.amount > 0
  )
GROUP BY
  1,
  2,
  3,
  4,
  5,
  6,
  7,
  8
ORDER BY
  `payments_created_at_raw` DESC
