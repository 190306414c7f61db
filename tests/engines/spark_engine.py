"""One local Spark session for the test run, holding the sample seeds as tables `main.<seed>`.

    local[1] JVM (UTC, no UI) ─▶ CREATE DATABASE main ─▶ per seed: createDataFrame(DuckDB's
    rows, explicit schema) ─▶ saveAsTable in a temporary warehouse ─▶ CACHE TABLE

Settings that only buy speed (about 30 s instead of 100 s for the queries on two cores): the
JIT's quick tier only (short runs never repay C2 compilation), no whole-stage code
generation and no adaptive execution (each query would compile Java and re-plan for a few
thousand rows). ANSI mode is on, as in Spark 4 and Databricks SQL by default.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engines.seeds import SCHEMA, Seed, engine_type, seeds, unavailable

# DuckDB type of a seed column → the Spark SQL type holding the same values.
SPARK_TYPES = {
    "BIGINT": "BIGINT",
    "INTEGER": "INT",
    "DOUBLE": "DOUBLE",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP_NTZ",  # DuckDB's TIMESTAMP has no zone; Spark's TIMESTAMP has
    "BOOLEAN": "BOOLEAN",
    "VARCHAR": "STRING",
}
SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.shuffle.partitions": "1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.adaptive.enabled": "false",
}


def session() -> Iterator[Any]:
    """A SparkSession whose catalog holds every seed as `main.<seed>`, cached in memory."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        unavailable("Spark", "the pyspark package is not installed (pip install -e '.[dev]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        unavailable("Spark", "no Java runtime: none on PATH, no JAVA_HOME (Spark 4 needs 17+)")
    warehouse = Path(tempfile.mkdtemp(prefix="metricql-spark-"))
    builder = SparkSession.builder.master("local[1]").appName("metricql-engine-tests")
    for key, value in {**SETTINGS, "spark.sql.warehouse.dir": str(warehouse)}.items():
        builder = builder.config(key, value)
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        patch.setenv("SPARK_LOCAL_IP", "127.0.0.1")  # the JVM inherits it at launch
        # pyspark 4.3 warns on import that it does not fully support pandas 3 (chdb's)
        warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas")
        spark = builder.getOrCreate()
        try:
            spark.sparkContext.setLogLevel("ERROR")
            spark.sql(f"CREATE DATABASE {SCHEMA}")
            for seed in seeds():
                _load(spark, seed)
        except BaseException:
            spark.stop()
            shutil.rmtree(warehouse, ignore_errors=True)
            raise
    try:
        yield spark
    finally:
        spark.stop()
        shutil.rmtree(warehouse, ignore_errors=True)


def _load(spark: Any, seed: Seed) -> None:
    schema = ", ".join(
        f"`{c.name}` {engine_type(SPARK_TYPES, seed, c, 'Spark')}" for c in seed.columns
    )
    table = f"{SCHEMA}.{seed.name}"
    spark.createDataFrame(list(seed.rows), schema).write.saveAsTable(table)
    spark.sql(f"CACHE TABLE {table}")
    assert spark.table(table).count() == len(seed.rows), table
