"""The same queries on DuckDB and ClickHouse (in process, chdb) give the same rows.

DuckDB runs `project.run`; ClickHouse runs the SQL compiled for `dialect="clickhouse"`, once on
database `main` (every column Nullable, as DuckDB types them) and once on `not_null` (Nullable
only where the seed holds NULLs, as ClickHouse tables usually are), with the server's default
settings: what the SQL needs it sets itself (`SETTINGS join_use_nulls = 1,
aggregate_functions_null_for_empty = 1`, see compiler/dialects.py).

Engine differences that are not metricql bugs, and how the comparison allows for them:
- Number types: COUNT is UInt64, AVG of integers Float64; numbers compare as numbers.
- Ties and LIMIT: as for PostgreSQL (test_postgres.py), rows tied on the sort keys may come in
  any order; `compare` checks the key sequence and compares tied rows as multisets.
- Collation: ClickHouse orders strings by bytes, which for UTF-8 is DuckDB's code point order.
- ROUND(x, n) of a half that is not one in binary (2.675 is 2.67499…): DuckDB rounds the exact
  double (2.67), ClickHouse's rewritten ROUND the product x·10ⁿ, 267.5 (2.68). The seeds have
  two decimals and round to 0 places, where both agree; see test_dialect_rules.py.
- upperUTF8('ß') is 'SS' (ICU), DuckDB's UPPER gives 'ẞ'; no seed string has a ß.
- `GROUP BY 1` needs `enable_positional_arguments`, on by default since ClickHouse 22.7; a
  server that turns it off rejects the SQL ("not under aggregate function"), it cannot mislead.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

import metricql as mq
from tests.engines.clickhouse_engine import DATABASES, run_clickhouse, sql_on
from tests.engines.compare import compare, rows_of, sort_keys
from tests.engines.queries import NOW, QUERIES
from tests.engines.test_postgres import EMPTY_ON_PURPOSE

pytestmark = pytest.mark.engines


@pytest.mark.parametrize("name", sorted(QUERIES))
@pytest.mark.parametrize("database", DATABASES)
def test_clickhouse_rows_equal_duckdb_rows(
    project: mq.Project,
    duck: duckdb.DuckDBPyConnection,
    clickhouse: Any,
    database: str,
    name: str,
) -> None:
    query = QUERIES[name]
    want = project.run(query, connection=duck, now=NOW)
    compiled = project.compile(query, dialect="clickhouse", now=NOW)
    sql = sql_on(compiled, database)
    got = run_clickhouse(clickhouse, compiled, sql)
    columns = compiled.field_ids
    assert want.columns == columns
    empty = name in EMPTY_ON_PURPOSE
    assert bool(want.rows) != empty, f"{name}: {len(want.rows)} rows on DuckDB; empty: {empty}"
    problem = compare(
        rows_of(got.rows, columns), rows_of(want.rows, columns), columns,
        sort_keys(compiled.tree), query.limit,
    )  # fmt: skip
    assert problem is None, f"{name}: clickhouse ({database}) differs from duckdb: {problem}\n{sql}"
