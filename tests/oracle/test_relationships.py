"""Oracle tests: `check_relationships` and `metricql check` find a wrong relationship and a
non-unique primary key (counts from hand-written SQL), and pass on the sample project."""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import duckdb
import pytest

import metricql as mq
from metricql.cli import main
from tests.conftest import SAMPLE


def _broken(root: Path) -> Path:
    """The sample project with orders → payments declared many-to-one (an order has several
    payments) and customers keyed by country (shared by many customers)."""
    target = root / "shop"
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns("*.duckdb", "target"))
    orders = target / "models" / "orders.yml"
    text = orders.read_text()
    wrong = "sql_on: ${orders.order_id} = ${payments.order_id}\n          relationship: one-to-many"
    assert wrong in text
    orders.write_text(text.replace(wrong, wrong.replace("one-to-many", "many-to-one")))
    customers = target / "models" / "customers.yml"
    text = customers.read_text()
    assert "      primary_key: customer_id\n" in text
    customers.write_text(text.replace("primary_key: customer_id\n", "primary_key: country\n", 1))
    return target


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> mq.Project:
    return mq.load_project(_broken(tmp_path_factory.mktemp("rel")))


def test_the_sample_project_holds(project: mq.Project, duck: duckdb.DuckDBPyConnection) -> None:
    report = project.check_relationships(duck)
    assert report.ok and report.checked == 10 and not report.skipped


def test_finds_the_wrong_relationship(broken: mq.Project, duck: duckdb.DuckDBPyConnection) -> None:
    report = broken.check_relationships(duck)
    (wrong,) = [v for v in report.violations if v.kind == "relationship"]
    many = duck.sql(
        """SELECT o.order_id, count(*) AS n FROM (SELECT DISTINCT order_id FROM orders) o
           JOIN payments p ON o.order_id = p.order_id GROUP BY 1 HAVING count(*) > 1
           ORDER BY n DESC, o.order_id"""
    ).fetchall()
    assert (wrong.table, wrong.joined, wrong.relationship) == ("orders", "payments", "many-to-one")
    assert wrong.keys == len(many) and wrong.rows == many[0][1]
    assert (wrong.example["order_id"], wrong.rows) == many[0]
    assert "orders_total_revenue" in wrong.inflates and "orders_order_count" in wrong.inflates
    assert "declared many-to-one" in str(wrong) and "inflates" in str(wrong)


def test_finds_the_non_unique_primary_key(
    broken: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    report = broken.check_relationships(duck)
    (key,) = [v for v in report.violations if v.kind == "primary_key"]
    repeated = duck.sql(
        """SELECT country, count(*) AS n FROM customers GROUP BY 1 HAVING count(*) > 1
           ORDER BY n DESC, country NULLS LAST"""
    ).fetchall()
    assert key.table == "customers" and key.keys == len(repeated)
    assert (key.example["country"], key.rows) == repeated[0]
    assert key.to_dict()["inflates"] and key.to_dict()["example"] == {"country": repeated[0][0]}


def test_sampled_checks_read_the_first_rows(
    broken: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    report = broken.check_relationships(duck, sample=50)
    assert {v.kind for v in report.violations} == {"relationship", "primary_key"}
    assert all("LIMIT 50" in v.sql for v in report.violations)


def test_cli_check_reports_and_exits_2(tmp_path: Path) -> None:
    ok, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(ok):
        assert main(["check", str(SAMPLE)]) == 0
    assert "ok: 10 checks hold" in ok.getvalue()
    with contextlib.redirect_stdout(out):
        assert main(["check", str(_broken(tmp_path))]) == 2
    text = out.getvalue()
    assert "FAILED: 2 of" in text and "declared many-to-one" in text and "not unique" in text
