"""A dbt profile target: which warehouse a project runs on, as read from profiles.yml."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

# dbt adapter type → sqlglot dialect name.
ADAPTER_DIALECTS: Mapping[str, str] = MappingProxyType(
    {
        "duckdb": "duckdb",
        "postgres": "postgres",
        "redshift": "redshift",
        "snowflake": "snowflake",
        "bigquery": "bigquery",
        "databricks": "databricks",
        "spark": "spark",
        "trino": "trino",
        "athena": "athena",
        "clickhouse": "clickhouse",
    }
)


@dataclass(frozen=True, slots=True)
class ProfileTarget:
    """One output of a dbt profile: adapter `type` plus its settings (path, schema, host …)."""

    profile: str
    target: str
    type: str
    # repr=False: the settings hold passwords and tokens, and a repr ends up in logs.
    settings: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), repr=False)
    file: Path | None = None
    base_dir: Path | None = None  # relative DuckDB paths resolve here (the dbt project dir)

    @property
    def dialect(self) -> str:
        """sqlglot dialect of this adapter."""
        return ADAPTER_DIALECTS.get(self.type, self.type)

    @property
    def schema(self) -> str | None:
        """Default schema (dbt `schema`, or BigQuery `dataset`)."""
        value = self.settings.get("schema", self.settings.get("dataset"))
        return str(value) if value is not None else None

    @property
    def database(self) -> str | None:
        """Default database (dbt `database`/`dbname`, BigQuery `project`); DuckDB: file stem."""
        for key in ("database", "dbname", "project", "catalog"):
            if self.settings.get(key) is not None:
                return str(self.settings[key])
        path = self.duckdb_path
        if path is not None:
            return "memory" if path == ":memory:" else Path(path).stem
        return None

    @property
    def duckdb_path(self) -> str | None:
        """DuckDB database file (absolute, or `:memory:`); None for other adapters."""
        if self.type != "duckdb":
            return None
        raw = str(self.settings.get("path", ":memory:"))
        if raw == ":memory:" or raw.startswith("md:"):
            return raw
        path = Path(raw).expanduser()
        if not path.is_absolute() and self.base_dir is not None:
            path = self.base_dir / path
        return str(path)
