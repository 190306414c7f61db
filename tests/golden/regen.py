"""Golden SQL: `tests/golden/<dialect>/<query>.sql`, rewritten by `python -m tests.golden.regen`.

Each file is the compiled query's tree rendered with `pretty=True` (one clause per line, so a
change to the compiler shows as a readable diff); `test_golden.py` checks it is the pretty form
of exactly the SQL `project.compile` returns today. Run the command after an intended change
and review the diff of every dialect.
"""

from __future__ import annotations

import sys
from pathlib import Path

import metricql as mq
from tests.conftest import SAMPLE
from tests.engines.queries import NOW, QUERIES

GOLDEN = Path(__file__).resolve().parent
# Generation-only warehouses first; postgres and duckdb, which CI executes, for review.
DIALECTS = ("snowflake", "bigquery", "redshift", "databricks", "trino", "athena", "postgres",
            "duckdb")  # fmt: skip
# Every sample query, plus representative ones that stress dialect differences.
NAMES = (
    *sorted(n for n in QUERIES if n.startswith("sample_")),
    "metrics_orders_by_status",
    "metrics_customers_by_country",
    "interval_order_date_all",
    "interval_created_at_all",
    "join_referrer",
    "join_payments_inner_with_sql_filter",
    "join_orders_to_payments_fanout",  # split aggregation stitched with IS NOT DISTINCT FROM
    "dims_amount_rounded",
    "dims_full_name_concat",
    "sort_nulls_first",
    "sort_day_names",
    "filter_string_include_a_b",
    "filter_string_starts_with_quote",
    "filter_string_equals_backslash",
    "filter_string_case_insensitive_unicode",
    "filter_number_not_in_between",
    "filter_boolean_not_equals",
    "filter_date_in_the_past_months_completed",
    "filter_date_period_to_date_weeks",
    "filter_timestamp_in_the_past_days_new_york",
    "filter_metric_or_group",
    "custom_bin_fixed_number",
    "custom_sql_integer_division",
    "additional_metric_average_of_integer",
    "table_calculation_templates",
)


def golden_path(dialect: str, name: str) -> Path:
    return GOLDEN / dialect / f"{name}.sql"


def compiled(project: mq.Project, name: str, dialect: str) -> mq.CompiledQuery:
    return project.compile(QUERIES[name], dialect=dialect, now=NOW)


def golden_text(query: mq.CompiledQuery) -> str:
    """The file content for a compiled query: its tree, pretty-printed in its dialect."""
    return query.tree.sql(dialect=query.dialect, pretty=True) + "\n"


def regenerate(project: mq.Project) -> tuple[int, int]:
    """Write every golden and delete stale ones; returns (files written, files removed)."""
    removed = 0
    for dialect in DIALECTS:
        folder = GOLDEN / dialect
        folder.mkdir(exist_ok=True)
        for stale in set(folder.glob("*.sql")) - {golden_path(dialect, n) for n in NAMES}:
            stale.unlink()
            removed += 1
        for name in NAMES:
            golden_path(dialect, name).write_text(golden_text(compiled(project, name, dialect)))
    return len(DIALECTS) * len(NAMES), removed


def main() -> int:
    written, removed = regenerate(mq.load_project(SAMPLE))
    print(f"wrote {written} golden files under {GOLDEN}, removed {removed} stale ones")
    return 0


if __name__ == "__main__":
    sys.exit(main())
