"""The one registry of warehouses: the SQL dialects metricql compiles for, and the dbt adapter
that runs on each. A new warehouse starts as one entry here (then its quirks, as rules in
`compiler/sql/dialect_rules.py` and `compiler/sql/timeframes.py`, each with a test)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# sqlglot dialect names, the default (DuckDB, the embedded warehouse) first.
SUPPORTED: tuple[str, ...] = (
    "duckdb",
    "postgres",
    "redshift",
    "snowflake",
    "bigquery",
    "databricks",
    "spark",
    "trino",
    "athena",
    "clickhouse",
)

# dbt adapter type (profiles.yml `type:`, manifest `adapter_type`) → sqlglot dialect. Every
# adapter supported so far is named like its dialect; one that is not gets its own entry.
ADAPTERS: Mapping[str, str] = MappingProxyType({name: name for name in SUPPORTED})
