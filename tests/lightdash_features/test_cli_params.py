"""`metricql run|compile … --param NAME=VALUE`: Lightdash parameter values from the command line,
checked as keyword parameters are; oracle on DuckDB against hand-written SQL."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from metricql.cli import main
from tests.lightdash_features.conftest import FEATURES

QUERY = {
    "exploreName": "orders",
    "dimensions": ["orders_is_large"],
    "metrics": ["orders_revenue_in_statuses"],
    "filters": {
        "dimensions": {
            "id": "g",
            "and": [
                {
                    "id": "r",
                    "target": {"fieldId": "customers_country"},
                    "operator": "equals",
                    "values": ["${lightdash.parameters.region}"],
                }
            ],
        }
    },
}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the sample (its own DuckDB file) and the query's JSON file."""
    root = tmp_path / "p"
    shutil.copytree(FEATURES, root, ignore=shutil.ignore_patterns("*.duckdb*"))
    query = tmp_path / "q.json"
    query.write_text(json.dumps(QUERY))
    return root, query


PARAMS = ["--param", "region=US", "--param", "min_amount=20",
          "--param", "statuses=completed", "--param", "statuses=returned"]  # fmt: skip


def test_run_takes_repeated_params(
    files: tuple[Path, Path], fduck: duckdb.DuckDBPyConnection, capsys: pytest.CaptureFixture[str]
) -> None:
    root, query = files
    assert main(["run", str(root), str(query), "--format", "json", *PARAMS]) == 0
    rows = json.loads(capsys.readouterr().out)
    rows = rows["rows"] if isinstance(rows, dict) else rows
    want = fduck.sql(
        "SELECT o.amount >= 20, SUM(CASE WHEN o.status IN ('completed', 'returned') "
        "THEN o.amount END) FROM main.orders o LEFT JOIN main.customers c USING (customer_id) "
        "WHERE c.country = 'US' GROUP BY 1"
    ).fetchall()
    got = {r["orders_is_large"]: r["orders_revenue_in_statuses"] for r in rows}
    assert got == pytest.approx({k: float(v) for k, v in want})


def test_compile_and_explain_take_params(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root, query = files
    assert main(["compile", str(root), str(query), *PARAMS]) == 0
    sql = capsys.readouterr().out
    assert "'US'" in sql and ">= 20" in sql and "IN ('completed', 'returned')" in sql
    assert main(["compile", str(root), str(query), "--explain", *PARAMS]) == 0
    assert json.loads(capsys.readouterr().out)["sql"].strip() == sql.strip()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (["--param", "region"], "--param 'region' is not NAME=VALUE"),
        (["--param", "=US"], "is not NAME=VALUE"),
        (["--param", "regoin=US"], "'regoin', which the project does not define"),
        (["--param", "region=US", "--param", "min_amount=ten"], "must be a number"),
        (["--param", "region=US", "--param", "region=FR"], "takes one value, got 2"),
        (["--param", "region=US", "--param", "statuses=bogus"], "'bogus' of parameter"),
        ([], "missing value for parameter 'region'"),
    ],
)
def test_bad_params_are_user_errors(
    files: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    params: list[str],
    message: str,
) -> None:
    root, query = files
    assert main(["compile", str(root), str(query), *params]) == 2
    err = capsys.readouterr().err
    assert message in err
    if "regoin" in message:
        assert "region" in err  # did you mean
