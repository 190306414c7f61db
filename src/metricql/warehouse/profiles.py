"""A profile target's warehouse: which driver (and extra) each dbt adapter needs, opened lazily.

    open_warehouse(target) ─▶ duckdb: the embedded database (seeds load into it)
                           ─▶ spark, method: session: a SparkSession (Spark Connect for sc://)
                           ─▶ any other: DBAPIWarehouse over a ConnectionPool of `threads`
                              connections, opened on first use by `connectors.<adapter>`

Opening the warehouse imports the driver (MissingDependencyError naming the extra when it
is not installed) but connects to nothing; connection errors come from the first query, with
every secret of the target masked and the driver's exception (which may hold a DSN) dropped.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType, ModuleType
from typing import Any

from metricql.errors import MissingDependencyError, WarehouseError
from metricql.project.profile import ProfileTarget
from metricql.warehouse import connectors as c
from metricql.warehouse.base import Warehouse
from metricql.warehouse.dbapi import GENERIC, DBAPIWarehouse, Driver
from metricql.warehouse.pool import ConnectionPool
from metricql.warehouse.secrets import redact, secret_values

__all__ = ["ADAPTERS", "Adapter", "adapter_for", "driver_version", "open_warehouse"]


def _whole(seconds: float) -> int:
    return max(1, math.ceil(seconds))


# Server-side timeouts for drivers that cannot cancel from another thread: (set, reset); the
# values are numbers formatted here, never text from a user.
_TIMEOUT_SQL: Mapping[str, Callable[[float], tuple[str, str]]] = {
    "redshift": lambda s: (
        f"SET statement_timeout TO {round(s * 1000)}",
        "RESET statement_timeout",
    ),
    "snowflake": lambda s: (
        f"ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = {_whole(s)}",
        "ALTER SESSION UNSET STATEMENT_TIMEOUT_IN_SECONDS",
    ),
    "clickhouse": lambda s: (f"SET max_execution_time = {_whole(s)}", "SET max_execution_time = 0"),
}

_SERVER = {name: Driver(cancels=False, timeout_sql=sql) for name, sql in _TIMEOUT_SQL.items()}


@dataclass(frozen=True, slots=True)
class Adapter:
    """How metricql opens one dbt adapter's connections."""

    extra: str  # pip install 'metricql[<extra>]'
    module: str  # the driver's import name
    connect: c.Connect
    driver: Driver = GENERIC


ADAPTERS: Mapping[str, Adapter] = MappingProxyType(
    {
        "postgres": Adapter("postgres", "psycopg", c.postgres),  # connection.cancel_safe()
        "redshift": Adapter("redshift", "redshift_connector", c.redshift, _SERVER["redshift"]),
        "snowflake": Adapter(
            "snowflake",
            "snowflake.connector",
            c.snowflake,
            _SERVER["snowflake"],
        ),
        "bigquery": Adapter("bigquery", "google.cloud.bigquery", c.bigquery, Driver(False)),
        "databricks": Adapter("databricks", "databricks.sql", c.databricks),  # cursor.cancel()
        "spark": Adapter("spark-thrift", "pyhive.hive", c.spark_thrift),  # cursor.cancel()
        "trino": Adapter("trino", "trino", c.trino),  # cursor.cancel()
        "athena": Adapter("athena", "pyathena", c.athena),  # cursor.cancel()
        "clickhouse": Adapter(
            "clickhouse",
            "clickhouse_connect",
            c.clickhouse,
            _SERVER["clickhouse"],
        ),
    }
)
_SESSION = Adapter("spark", "pyspark.sql", c.spark_thrift)  # spark `method: session`


def adapter_for(target: ProfileTarget) -> Adapter | None:
    """The adapter of a target (None for DuckDB, which is built in)."""
    if target.type == "duckdb":
        return None
    if target.type == "spark" and target.settings.get("method", "session") == "session":
        return _SESSION
    if target.type == "spark" and target.settings.get("method") not in ("thrift", "http"):
        raise WarehouseError(
            f"spark `method: {target.settings.get('method')}` is not supported by metricql",
            hint="use method session, thrift or http, or a `databricks` target for Databricks",
            profile=target.profile,
            target=target.target,
        )
    return ADAPTERS[target.type]


def driver_version(target: ProfileTarget) -> str:
    """`<module> <version>` of the target's driver; MissingDependencyError if not installed."""
    adapter = adapter_for(target)
    if adapter is None:
        import duckdb

        return f"duckdb {duckdb.__version__}"
    module = _driver(adapter, target)
    top = importlib.import_module(adapter.module.split(".")[0])
    version = getattr(module, "__version__", None) or getattr(top, "__version__", "?")
    return f"{adapter.module} {version}"


def open_warehouse(target: ProfileTarget, *, read_only: bool = True) -> Warehouse:
    """The target's warehouse; nothing connects until the first query (DuckDB: now)."""
    adapter = adapter_for(target)
    if adapter is None:
        from metricql.warehouse import duckdb as duck

        return duck.DuckDBWarehouse(duck.connect(target), owned=True)
    module = _driver(adapter, target)
    if adapter is _SESSION:
        from metricql.warehouse.spark import session_warehouse

        return session_warehouse(target)
    secrets = secret_values(target.settings)
    pool = ConnectionPool(
        lambda: _connect(adapter, module, target, read_only, secrets),
        size=int(target.settings.get("threads", 1) or 1),
    )
    return DBAPIWarehouse(pool, target.dialect, driver=adapter.driver, secrets=secrets)


def _driver(adapter: Adapter, target: ProfileTarget) -> ModuleType:
    try:
        return importlib.import_module(adapter.module)
    except ImportError:
        raise MissingDependencyError(
            f"the {target.type} target {target.target!r} of profile {target.profile!r} needs "
            f"the {adapter.module} driver, which is not installed",
            hint=f"pip install 'metricql[{adapter.extra}]'",
            profile=target.profile,
            target=target.target,
            extra=adapter.extra,
        ) from None


def _connect(
    adapter: Adapter,
    module: ModuleType,
    target: ProfileTarget,
    read_only: bool,
    secrets: tuple[str, ...],
) -> Any:
    try:
        return adapter.connect(module, target.settings, read_only)
    except (WarehouseError, MissingDependencyError):
        raise
    except Exception as err:  # driver errors share no base class
        reason = f"{type(err).__name__}: {str(err).strip()}"
    # Raised outside the `except`: the driver's exception (which may hold a DSN) is neither
    # the cause nor the context of the error the caller sees.
    raise WarehouseError(
        f"cannot connect to the {target.type} target {target.target!r} of profile "
        f"{target.profile!r}: {redact(reason, secrets)}",
        hint="check the target's host, port, user and credentials in profiles.yml "
        "(`metricql debug PROJECT --target NAME` checks each step)",
        profile=target.profile,
        target=target.target,
    )
