"""Oracle tests: custom granularities from lightdash.config.yml, reached as `<base>_<name>`,
listed in time_intervals, zoomed to and sorted by."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import pytest

import metricql as mq
from tests.conftest import SAMPLE, assert_same_rows

CONFIG = """\
custom_granularities:
  fiscal_quarter:
    label: Fiscal quarter
    sql: CAST(DATE_TRUNC('QUARTER', ${COLUMN} + INTERVAL '1 month') AS DATE)
  day_part:
    label: Part of day
    sql: CASE WHEN EXTRACT(HOUR FROM ${COLUMN}) < 12 THEN 'morning' ELSE 'afternoon' END
    type: string
"""


def _copy(tmp_path: Path, config: str) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("*.duckdb", "target"))
    (root / "lightdash.config.yml").write_text(textwrap.dedent(config))
    orders = root / "models" / "orders.yml"
    text = orders.read_text().replace(
        "              - QUARTER_NAME\n",
        "              - QUARTER_NAME\n              - fiscal_quarter\n",
    )
    orders.write_text(text)
    return root


@pytest.fixture(scope="module")
def fiscal(tmp_path_factory: pytest.TempPathFactory) -> mq.Project:
    return mq.load_project(_copy(tmp_path_factory.mktemp("grains"), CONFIG))


def _run(project: mq.Project, duck: duckdb.DuckDBPyConnection, **body: Any) -> mq.QueryResult:
    query = mq.MetricQuery.model_validate({"exploreName": "orders", "limit": None, **body})
    return project.run(query, connection=duck)


def test_a_custom_granularity_of_a_date(
    fiscal: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    got = _run(
        fiscal,
        duck,
        dimensions=["orders_order_date_fiscal_quarter"],
        metrics=["orders_order_count"],
    )
    want = duck.sql(
        """SELECT CAST(date_trunc('quarter', order_date + INTERVAL 1 MONTH) AS DATE),
                  count(order_id) FROM orders GROUP BY 1"""
    ).fetchall()
    assert len(want) > 4
    assert_same_rows(got.rows, want, ["orders_order_date_fiscal_quarter", "orders_order_count"])
    assert (got.fields[0].type, got.fields[0].label) == ("date", "Order date Fiscal quarter")


def test_listed_in_time_intervals_without_a_warning(fiscal: mq.Project) -> None:
    assert not [i for i in fiscal.validate() if "fiscal_quarter" in str(i)]
    explore = fiscal.explore("orders")
    listed = explore.dimensions["orders_order_date_fiscal_quarter"]  # in the explore's fields
    assert (listed.time_interval_base, listed.type.value) == ("order_date", "date")
    assert "order_date_fiscal_quarter" in explore.tables["orders"].dimensions
    assert "orders_ordered_at_fiscal_quarter" not in explore.dimensions  # not listed there
    exported = mq.explore_to_dict(explore)
    assert "order_date_fiscal_quarter" in exported["tables"]["orders"]["dimensions"]


def test_a_string_granularity_of_a_timestamp_sorted_descending(
    fiscal: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    got = _run(
        fiscal,
        duck,
        dimensions=["orders_ordered_at_day_part"],
        metrics=["orders_order_count"],
        sorts=[{"fieldId": "orders_ordered_at_day_part", "descending": True}],
    )
    want = duck.sql(
        """SELECT CASE WHEN hour(ordered_at) < 12 THEN 'morning' ELSE 'afternoon' END AS p,
                  count(order_id) FROM orders GROUP BY 1 ORDER BY p DESC NULLS LAST"""
    ).fetchall()
    assert [r[0] for r in want] == ["morning", "afternoon"]
    assert_same_rows(
        got.rows, want, ["orders_ordered_at_day_part", "orders_order_count"], ordered=True
    )


def test_date_zoom_to_a_custom_granularity(
    fiscal: mq.Project, duck: duckdb.DuckDBPyConnection
) -> None:
    got = _run(
        fiscal,
        duck,
        dimensions=["orders_ordered_at_day"],
        metrics=["orders_total_revenue"],
        dateZoom={"granularity": "fiscal_quarter"},
    )
    want = duck.sql(
        """SELECT CAST(date_trunc('quarter', ordered_at + INTERVAL 1 MONTH) AS DATE), sum(amount)
           FROM orders GROUP BY 1"""
    ).fetchall()
    assert_same_rows(got.rows, want, ["orders_ordered_at_day", "orders_total_revenue"])


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ("custom_granularities:\n  month:\n    label: M\n    sql: ${COLUMN}\n", "standard"),
        ("custom_granularities:\n  fy:\n    sql: ${COLUMN}\n", "label"),
        ("custom_granularities:\n  fy:\n    label: F\n    sql: CURRENT_DATE\n", "${COLUMN}"),
        ("custom_granularities:\n  fy:\n    label: F\n    sql: ${COLUMN} +\n", "parse"),
        (
            "custom_granularities:\n  fy:\n    label: F\n    sql: (SELECT MAX(${COLUMN}) FROM t)\n",
            "expression",
        ),
        ("custom_granularities: [fy]\n", "mapping"),
    ],
)
def test_bad_granularities_are_project_errors(tmp_path: Path, config: str, words: str) -> None:
    with pytest.raises(mq.MetricQLError) as err:
        project = mq.load_project(_copy(tmp_path, config))
        project.explore("orders")
    assert words in str(err.value) and err.value.hint
