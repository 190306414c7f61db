"""`compiler/dialects.py`: each rule's SQL per dialect, re-parsed there; some run on engines."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import duckdb
import pytest
import sqlglot
from sqlglot import exp, parse_one

from metricql.compiler.sql.dialect_rules import RULES, adapt

# (dialect, node type the rule is for, DuckDB SQL the compiler or a user snippet gives) → SQL.
CASES: dict[tuple[str, type[exp.Expr], str], str] = {
    ("postgres", exp.Round, "ROUND(amount, 0)"): "ROUND(CAST(amount AS DECIMAL), 0)",
    ("postgres", exp.Round, "ROUND(amount)"): "ROUND(CAST(amount AS DECIMAL))",
    ("postgres", exp.Round, "ROUND(CAST(a AS DECIMAL(10, 2)), 1)"):
        "ROUND(CAST(a AS DECIMAL(10, 2)), 1)",
    ("postgres", exp.Round, "ROUND(ROUND(a, 2), 1)"):
        "ROUND(CAST(ROUND(CAST(a AS DECIMAL), 2) AS DECIMAL), 1)",
    ("postgres", exp.Extract, "EXTRACT(DAYOFYEAR FROM d) + EXTRACT(year FROM d)"):
        "EXTRACT(DOY FROM d) + EXTRACT(YEAR FROM d)",
    ("postgres", exp.Extract, "EXTRACT(dayofweek FROM d) = EXTRACT(ISODOW FROM d)"):
        "EXTRACT(DOW FROM d) = EXTRACT(ISODOW FROM d)",
    ("redshift", exp.NullSafeEQ, "a.x IS NOT DISTINCT FROM b.x"):
        "(a.x = b.x OR (a.x IS NULL AND b.x IS NULL))",
    ("databricks", exp.PercentileCont, "QUANTILE_CONT(amount, 0.9)"): "PERCENTILE(amount, 0.9)",
    ("databricks", exp.WithinGroup, "PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY amount)"):
        "PERCENTILE(amount, 0.9)",
    ("databricks", exp.WithinGroup,
     "PERCENTILE_CONT(0.25) WITHIN GROUP (ORDER BY amount DESC)"): "PERCENTILE(amount, 0.75)",
    ("spark", exp.PercentileCont, "QUANTILE_CONT(amount, 0.9)"): "PERCENTILE(amount, 0.9)",
    ("spark", exp.WithinGroup, "PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY amount)"):
        "PERCENTILE(amount, 0.5)",
    ("trino", exp.PercentileCont, "QUANTILE_CONT(amount, 0.9)"):
        "APPROX_PERCENTILE(amount, 0.9)",
    ("trino", exp.Median, "MEDIAN(amount)"): "APPROX_PERCENTILE(amount, 0.5)",
    ("trino", exp.WithinGroup, "PERCENTILE_CONT(0.1) WITHIN GROUP (ORDER BY amount)"):
        "APPROX_PERCENTILE(amount, 0.1)",
    ("athena", exp.PercentileCont, "QUANTILE_CONT(amount, 0.9)"):
        "APPROX_PERCENTILE(amount, 0.9)",
    ("athena", exp.Median, "MEDIAN(amount)"): "APPROX_PERCENTILE(amount, 0.5)",
    ("athena", exp.WithinGroup, "PERCENTILE_CONT(0.1) WITHIN GROUP (ORDER BY amount)"):
        "APPROX_PERCENTILE(amount, 0.1)",
    ("bigquery", exp.PercentileCont, "QUANTILE_CONT(amount, 0.9)"):
        "APPROX_QUANTILES(amount, 10)[9]",
    ("bigquery", exp.PercentileCont, "QUANTILE_CONT(amount, 0.95)"):
        "APPROX_QUANTILES(amount, 20)[19]",
    ("bigquery", exp.Median, "MEDIAN(amount)"): "APPROX_QUANTILES(amount, 2)[1]",
    ("bigquery", exp.WithinGroup, "PERCENTILE_CONT(0.25) WITHIN GROUP (ORDER BY amount)"):
        "APPROX_QUANTILES(amount, 4)[1]",
    ("clickhouse", exp.PercentileCont, "QUANTILE_CONT(amount, 0.9)"):
        "quantileExactInclusive(0.9)(amount)",
    ("clickhouse", exp.Median, "MEDIAN(amount)"): "quantileExactInclusive(0.5)(amount)",
    ("clickhouse", exp.WithinGroup,
     "PERCENTILE_CONT(0.25) WITHIN GROUP (ORDER BY amount DESC)"):
        "quantileExactInclusive(0.75)(amount)",
    ("clickhouse", exp.Round, "ROUND(amount)"):
        "(trunc(amount) + SIGN(amount) * (ABS(amount - trunc(amount)) >= 0.5))",
    ("clickhouse", exp.Round, "ROUND(amount, 0)"):
        "(trunc(amount) + SIGN(amount) * (ABS(amount - trunc(amount)) >= 0.5))",
    ("clickhouse", exp.Round, "ROUND(a + b, 2)"):
        "((trunc((a + b) * 100) + SIGN((a + b) * 100) * "
        "(ABS((a + b) * 100 - trunc((a + b) * 100)) >= 0.5)) / 100)",
    ("clickhouse", exp.Round, "ROUND(amount, -1)"):
        "((trunc(amount / 10) + SIGN(amount / 10) * "
        "(ABS(amount / 10 - trunc(amount / 10)) >= 0.5)) * 10)",
    ("clickhouse", exp.Upper, "UPPER(name)"): "upperUTF8(name)",
    ("clickhouse", exp.Lower, "LOWER(name) LIKE 'å%'"): "lowerUTF8(name) LIKE 'å%'",
    ("clickhouse", exp.Alias, "SELECT amount > 100 AS big"):
        "SELECT CAST(amount > 100 AS Nullable(Bool)) AS big",
    ("clickhouse", exp.Alias, "SELECT (COUNT(*) > 0) AS has_rows"):
        "SELECT CAST(COUNT(*) > 0 AS Nullable(Bool)) AS has_rows",
    ("clickhouse", exp.Alias, "SELECT a IS NOT NULL AND starts_with(b, 'x') AS c"):
        "SELECT CAST(NOT (a IS NULL) AND startsWith(b, 'x') AS Nullable(Bool)) AS c",
    ("clickhouse", exp.Select, "SELECT a FROM t LEFT JOIN u ON t.id = u.id"):
        "SELECT a FROM t LEFT JOIN u ON t.id = u.id SETTINGS join_use_nulls = 1",
    ("clickhouse", exp.Select, "WITH q AS (SELECT a FROM t FULL JOIN u USING (id)) SELECT 1"):
        "WITH q AS (SELECT a FROM t FULL JOIN u USING (id)) SELECT 1 "
        "SETTINGS join_use_nulls = 1",
    ("clickhouse", exp.Select, "WITH m AS (SELECT SUM(a) AS s FROM t) SELECT s FROM m"):
        "WITH m AS (SELECT SUM(a) AS s FROM t) SELECT s FROM m "
        "SETTINGS aggregate_functions_null_for_empty = 1",
    ("clickhouse", exp.Select, "SELECT MIN(u.d) FROM t LEFT JOIN u ON t.id = u.id"):
        "SELECT MIN(u.d) FROM t LEFT JOIN u ON t.id = u.id "
        "SETTINGS join_use_nulls = 1, aggregate_functions_null_for_empty = 1",
}  # fmt: skip

# Left alone: what a rule is not for, and dialects whose sqlglot output is already right.
UNCHANGED: dict[tuple[str, str], str] = {
    ("databricks", "MEDIAN(amount)"): "MEDIAN(amount)",  # exact there
    ("databricks", "PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY a, b)"):
        "PERCENTILE_APPROX(a, 0.5)",  # two sort keys: not a percentile we can rewrite
    ("postgres", "QUANTILE_CONT(amount, 0.9)"):
        "PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY amount)",
    ("snowflake", "MEDIAN(amount)"): "MEDIAN(amount)",
    ("snowflake", "ROUND(amount, 0)"): "ROUND(amount, 0)",
    ("redshift", "QUANTILE_CONT(amount, 0.9)"):
        "PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY amount)",
    ("duckdb", "ROUND(amount, 0)"): "ROUND(amount, 0)",
    ("clickhouse", "ROUND(amount, digits)"): "ROUND(amount, digits)",  # scale unknown
    ("clickhouse", "SELECT a AS b, TRUE AS t, CAST(a AS BOOLEAN) AS c"):
        "SELECT a AS b, TRUE AS t, CAST(a AS Nullable(Bool)) AS c",  # Bool already
    ("clickhouse", "SELECT a FROM t INNER JOIN u ON t.id = u.id CROSS JOIN v"):
        "SELECT a FROM t INNER JOIN u ON t.id = u.id CROSS JOIN v",  # no outer join
    ("clickhouse", "SELECT k, SUM(a) AS s, SUM(a) OVER () AS w FROM t GROUP BY k"):
        "SELECT k, SUM(a) AS s, SUM(a) OVER () AS w FROM t GROUP BY k",  # a row per group
    ("clickhouse", "SELECT a, SUM(a) OVER () AS w FROM t"):
        "SELECT a, SUM(a) OVER () AS w FROM t",  # a window, over rows
}  # fmt: skip


def _adapted(source: str, dialect: str) -> str:
    tree = parse_one(source, read="duckdb")
    return adapt(tree, dialect).sql(dialect=dialect)


@pytest.mark.parametrize(("dialect", "node", "source"), list(CASES))
def test_rule_sql(dialect: str, node: type[exp.Expr], source: str) -> None:
    sql = _adapted(source, dialect)
    assert sql == CASES[dialect, node, source]
    assert parse_one(sql, read=dialect).sql(dialect=dialect) == sql  # real SQL there


@pytest.mark.parametrize(("dialect", "source"), list(UNCHANGED))
def test_what_rules_leave_alone(dialect: str, source: str) -> None:
    assert _adapted(source, dialect) == UNCHANGED[dialect, source]


@pytest.mark.parametrize(("dialect", "node", "source"), list(CASES))
def test_rules_are_idempotent(dialect: str, node: type[exp.Expr], source: str) -> None:
    """Totals embed an adapted query in another that is adapted in turn: nothing doubles."""
    once = adapt(parse_one(source, read="duckdb"), dialect)
    assert adapt(once.copy(), dialect).sql(dialect=dialect) == once.sql(dialect=dialect)


def test_every_rule_has_a_case() -> None:
    covered = {(dialect, node) for dialect, node, _ in CASES}
    assert covered == {(d, n) for d, rules in RULES.items() for n in rules}


def test_adapt_keeps_the_rest_of_the_tree() -> None:
    tree = parse_one("SELECT a, MEDIAN(b) AS m FROM t WHERE c > 1 GROUP BY a", read="duckdb")
    sql = adapt(tree, "trino").sql(dialect="trino")
    assert sql == "SELECT a, APPROX_PERCENTILE(b, 0.5) AS m FROM t WHERE c > 1 GROUP BY a"


# Halves and a non-representable double: what ROUND gives on DuckDB and, adapted, on Postgres.
ROUNDING = (0.5, 1.5, 2.5, -2.5, 1234.5, 0.125, 33.333)


@pytest.mark.engines
@pytest.mark.parametrize("digits", [None, 0, 2])
def test_postgres_round_matches_duckdb(postgres: Any, digits: int | None) -> None:
    args = "" if digits is None else f", {digits}"
    values = ", ".join(f"({v})" for v in ROUNDING)
    source = f"SELECT ROUND(CAST(v AS DOUBLE){args}) FROM (VALUES {values}) AS t(v) ORDER BY v"
    want = [row[0] for row in duckdb.execute(source).fetchall()]
    sql = adapt(sqlglot.parse_one(source, read="duckdb"), "postgres").sql(dialect="postgres")
    got = [row[0] for row in postgres.execute(sql).fetchall()]
    assert all(isinstance(g, Decimal) for g in got)  # NUMERIC: halves away from zero
    assert [float(g) for g in got] == want, sql


@pytest.mark.engines
def test_round_of_an_inexact_half_is_an_engine_difference(postgres: Any) -> None:
    """2.675 is stored as 2.67499999…: DuckDB rounds that; Postgres rounds NUMERIC 2.675."""
    source = "SELECT ROUND(CAST(2.675 AS DOUBLE), 2)"
    sql = adapt(sqlglot.parse_one(source, read="duckdb"), "postgres").sql(dialect="postgres")
    assert duckdb.execute(source).fetchall() == [(2.67,)]
    assert postgres.execute(sql).fetchall() == [(Decimal("2.68"),)]


# Beyond ROUNDING: 1.005 (1.00499…, times 100 still below the half), the double just below
# 0.5, an odd integer in [2⁵², 2⁵³) where `x + 0.5` would round up, infinities, NaN and NULL.
EDGES = ("1.005", "-0.5", "0.49999999999999994", "4503599627370497", "inf", "-inf", "nan")


@pytest.mark.engines
@pytest.mark.parametrize("digits", [None, 0, 2, -1])
def test_clickhouse_round_matches_duckdb(clickhouse: Any, digits: int | None) -> None:
    """ClickHouse's round(Float64) rounds halves to even; the rewrite, as DuckDB, away."""
    args = "" if digits is None else f", {digits}"
    values = ", ".join([*(f"('{v}')" for v in (*ROUNDING, *EDGES)), "(NULL)"])
    source = (f"SELECT v, ROUND(v{args}) FROM (SELECT CAST(v AS DOUBLE) AS v FROM (VALUES "
              f"{values}) AS t(v)) AS d ORDER BY v NULLS LAST")  # fmt: skip
    want = duckdb.execute(source).fetchall()
    sql = adapt(sqlglot.parse_one(source, read="duckdb"), "clickhouse").sql(dialect="clickhouse")
    got = _clickhouse_rows(clickhouse, sql)
    assert [tuple(map(_same_nan, g)) for g in got] == [tuple(map(_same_nan, w)) for w in want]


@pytest.mark.engines
def test_clickhouse_round_of_an_inexact_half_is_an_engine_difference(clickhouse: Any) -> None:
    """DuckDB rounds the double 2.67499… to 2.67; ClickHouse rounds 2.675 * 100 = 267.5 up."""
    source = "SELECT ROUND(CAST('2.675' AS DOUBLE), 2)"
    sql = adapt(sqlglot.parse_one(source, read="duckdb"), "clickhouse").sql(dialect="clickhouse")
    assert duckdb.execute(source).fetchall() == [(2.67,)]
    assert _clickhouse_rows(clickhouse, sql) == [(2.68,)]


def _same_nan(value: Any) -> Any:
    return "NaN" if isinstance(value, float) and math.isnan(value) else value


@pytest.mark.engines
def test_clickhouse_upper_and_lower_change_every_letter(clickhouse: Any) -> None:
    """UPPER('åsa') is 'åSA' in ClickHouse; upperUTF8 gives DuckDB's 'ÅSA'. (Not for ß:
    ClickHouse's ICU gives 'STRASSE', DuckDB 'STRAẞE'.)"""
    source = (
        "SELECT v, UPPER(v), LOWER(v) FROM (VALUES ('åsa'), ('ZOË'), ('Søren'), ('李')) AS t(v) "
        "ORDER BY v"
    )
    want = duckdb.execute(source).fetchall()
    sql = adapt(sqlglot.parse_one(source, read="duckdb"), "clickhouse").sql(dialect="clickhouse")
    assert _clickhouse_rows(clickhouse, sql) == want, sql


def _clickhouse_rows(connection: Any, sql: str) -> list[tuple[Any, ...]]:
    cursor = connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()
