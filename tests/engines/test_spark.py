"""The same queries on DuckDB and Spark (local mode) give the same rows; Databricks too.

DuckDB runs `project.run`; so does Spark, through `project.run(query, connection=spark)` on
the run's one local SparkSession (spark_engine.py), with the SQL compiled for Spark and the
rows fetched through Spark's Arrow path (`toArrow`). All of QUERIES run: about 30 s on two
cores after 10–15 s of start-up and loading. Databricks SQL is Spark SQL:
`test_databricks_sql_is_spark_sql` checks metricql compiles every query to the same SQL for
both, so the Spark rows vouch for Databricks.

Engine differences that are not metricql bugs, and how the comparison allows for them:
- Number types: `1.0 * x / y` (return_rate) gives DECIMAL(38, 16) where DuckDB gives DOUBLE;
  numbers compare as numbers, within 1e-9.
- Ties and LIMIT: as for PostgreSQL (test_postgres.py), rows tied on the sort keys may come in
  any order; `compare` checks the key sequence and compares tied rows as multisets.
- Zoned timestamps: DATE_TRUNC to the hour, minute, second or millisecond of a TIMESTAMP_NTZ
  column gives Spark's zoned TIMESTAMP; in the UTC session its wall clock is DuckDB's. Arrow
  hands such values over as aware datetimes in the session zone, so they compare as instants
  whatever TZ the tests run in.
- ROUND: Spark rounds the shortest decimal of a double (2.675 → 2.68), DuckDB the exact binary
  value (2.67), as on Postgres; the seeds round two decimals to 0 places, where both agree.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

import metricql as mq
from tests.engines.compare import compare, rows_of, sort_keys
from tests.engines.queries import NOW, QUERIES
from tests.engines.test_postgres import EMPTY_ON_PURPOSE


@pytest.mark.engines
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_spark_rows_equal_duckdb_rows(
    project: mq.Project, duck: duckdb.DuckDBPyConnection, spark: Any, name: str
) -> None:
    query = QUERIES[name]
    want = project.run(query, connection=duck, now=NOW)
    compiled = project.compile(query, dialect="spark", now=NOW)
    got = project.run(query, connection=spark, now=NOW)
    assert got.dialect == "spark" and got.sql == compiled.sql
    columns = compiled.field_ids
    assert want.columns == columns
    empty = name in EMPTY_ON_PURPOSE
    assert bool(want.rows) != empty, f"{name}: {len(want.rows)} rows on DuckDB; empty: {empty}"
    problem = compare(
        rows_of(got.rows, columns), rows_of(want.rows, columns), columns,
        sort_keys(compiled.tree), query.limit,
    )  # fmt: skip
    assert problem is None, f"{name}: spark differs from duckdb: {problem}\n{compiled.sql}"


def test_databricks_sql_is_spark_sql(project: mq.Project) -> None:
    """Every query compiles to the same SQL for both: the Spark run covers Databricks."""
    differ = [
        name
        for name, query in QUERIES.items()
        if project.compile(query, dialect="databricks", now=NOW).sql
        != project.compile(query, dialect="spark", now=NOW).sql
    ]
    assert differ == [], "run these on Spark as dialect='databricks' too, or explain why not"


@pytest.mark.engines
def test_round_of_an_inexact_half_is_an_engine_difference(spark: Any) -> None:
    """2.675 is stored as 2.67499999…: DuckDB rounds that; Spark rounds its decimal 2.675."""
    source = "SELECT ROUND(CAST('2.675' AS DOUBLE), 2), ROUND(CAST('2.5' AS DOUBLE))"
    assert duckdb.execute(source).fetchall() == [(2.67, 3.0)]
    assert [tuple(row) for row in spark.sql(source).collect()] == [(2.68, 3.0)]
