"""Finding 11 (output): table text escapes terminal control characters; CSV neutralises cells
a spreadsheet would run as formulas."""

from __future__ import annotations

import csv
import io

import duckdb

import metricql as mq
from metricql.results.formatting import format_csv, format_table
from tests.security.conftest import AUTHOR, query


def _result(acme: mq.Project, db: duckdb.DuckDBPyConnection, sql: str) -> mq.QueryResult:
    custom = mq.CustomSqlDimension(id="x", name="x", table="accounts", sql=sql)
    q = query(
        dimensions=["x"],
        metrics=["accounts_account_count"],
        custom_dimensions=[custom],
        table_calculations=[{"name": "neg", "sql": "0 - ${accounts.account_count}"}],
    )
    return acme.run(q, user=AUTHOR, connection=db)


def test_table_output_escapes_control_characters(
    acme: mq.Project, acme_db: duckdb.DuckDBPyConnection
) -> None:
    result = _result(acme, acme_db, "chr(27) || '[2J' || chr(7) || ${accounts.region}")
    assert result.rows[0]["x"] == "\x1b[2J\x07NA"  # the data is unchanged …
    text = format_table(result)
    assert "\x1b" not in text and "\x07" not in text  # … the terminal never receives it
    assert "\\x1b[2J\\x07NA" in text


def test_csv_neutralises_formulas_but_not_numbers(
    acme: mq.Project, acme_db: duckdb.DuckDBPyConnection
) -> None:
    for sql, want in [
        ("'=HYPERLINK(1)' || ${accounts.region}", "'=HYPERLINK(1)NA"),
        ("'+1' || ${accounts.region}", "'+1NA"),
        ("'-1' || ${accounts.region}", "'-1NA"),
        ("'@SUM(1)' || ${accounts.region}", "'@SUM(1)NA"),
        ("'safe ' || ${accounts.region}", "safe NA"),
    ]:
        result = _result(acme, acme_db, sql)
        (row,) = list(csv.reader(io.StringIO(format_csv(result))))[1:]
        assert row == [want, "100", "-100"], sql
        out = io.StringIO()
        mq.write_csv(result.fields, result.rows, out)
        (lightdash_row,) = list(csv.reader(io.StringIO(out.getvalue().lstrip("\ufeff"))))[1:]
        assert lightdash_row[0] == want and lightdash_row[2] == "-100"
