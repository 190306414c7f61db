"""`compiler/dialects.py`: each rule's SQL per dialect, re-parsed there; ROUND run on Postgres."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import duckdb
import pytest
import sqlglot
from sqlglot import exp, parse_one

from metricql.compiler.dialects import RULES, adapt

# (dialect, node type the rule is for, DuckDB SQL the compiler or a user snippet gives) → SQL.
CASES: dict[tuple[str, type[exp.Expr], str], str] = {
    ("postgres", exp.Round, "ROUND(amount, 0)"): "ROUND(CAST(amount AS DECIMAL), 0)",
    ("postgres", exp.Round, "ROUND(amount)"): "ROUND(CAST(amount AS DECIMAL))",
    ("postgres", exp.Round, "ROUND(CAST(a AS DECIMAL(10, 2)), 1)"):
        "ROUND(CAST(a AS DECIMAL(10, 2)), 1)",
    ("postgres", exp.Round, "ROUND(ROUND(a, 2), 1)"):
        "ROUND(CAST(ROUND(CAST(a AS DECIMAL), 2) AS DECIMAL), 1)",
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
