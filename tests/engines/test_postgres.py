"""The same queries on DuckDB and PostgreSQL give the same rows.

DuckDB runs `project.run` (the oracle tests prove its SQL right); PostgreSQL runs the SQL
compiled for `dialect="postgres"` on a throwaway cluster loaded with the same seed rows.

Engine differences that are not metricql bugs, and how the comparison allows for them:
- Number types: Postgres gives NUMERIC (Decimal) for SUM of BIGINT, AVG, `1.0 * x / y` and
  ROUND, where DuckDB gives HUGEINT or DOUBLE. Numbers compare as numbers, within 1e-9.
- Ties: rows equal on the ORDER BY keys come in any order, and LIMIT may cut a tie group
  differently; `compare` checks the key sequence and compares tied rows as multisets.
- Collation: the cluster uses C.UTF-8, which orders strings by code point like DuckDB. A
  warehouse with a language collation (en_US.UTF-8) sorts 'Åsa', 'Zoë', '李' elsewhere: that
  is the database's setting, not the SQL.
- ROUND of a DOUBLE that is not exactly a half (2.675 is 2.67499999…): DuckDB rounds the
  binary value (2.67), Postgres the decimal it casts to (2.68). The sample data has two
  decimals and rounds to 0 places, where both agree; see test_dialect_rules.py.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

import metricql as mq
from tests.engines.compare import compare, rows_of, sort_keys
from tests.engines.queries import NOW, QUERIES

pytestmark = pytest.mark.engines

# Queries whose empty result is the point: `a_b` must not match 'a%b_c' (`_` is no wildcard),
# LIMIT 0. Every other query must return rows, or it would compare nothing.
EMPTY_ON_PURPOSE = frozenset({"filter_string_include_a_b", "limit_zero"})


def run_postgres(connection: Any, compiled: mq.CompiledQuery) -> mq.QueryResult:
    """Execute compiled SQL on the cluster; rows keyed by field id like `project.run`'s."""
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql)  # no parameters: the SQL is sent as is, `%` included
        columns = [c.name for c in cursor.description or ()]
        rows = cursor.fetchall()
    return mq.QueryResult.from_rows(compiled, columns, rows)


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_postgres_rows_equal_duckdb_rows(
    project: mq.Project, duck: duckdb.DuckDBPyConnection, postgres: Any, name: str
) -> None:
    query = QUERIES[name]
    want = project.run(query, connection=duck, now=NOW)
    compiled = project.compile(query, dialect="postgres", now=NOW)
    got = run_postgres(postgres, compiled)
    columns = compiled.field_ids
    assert want.columns == columns
    empty = name in EMPTY_ON_PURPOSE
    assert bool(want.rows) != empty, f"{name}: {len(want.rows)} rows on DuckDB; empty: {empty}"
    problem = compare(
        rows_of(got.rows, columns), rows_of(want.rows, columns), columns,
        sort_keys(compiled.tree), query.limit,
    )  # fmt: skip
    assert problem is None, f"{name}: postgres differs from duckdb: {problem}\n{compiled.sql}"
