"""dbt node metadata as dbt and Lightdash read it: descriptions, docs blocks, unknown keys."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import metricql as mq
from metricql.cli import main
from metricql.project.keys import NOT_IMPLEMENTED, PRESENTATION_ONLY, known_keys, read_keys
from tests.helpers import make_project

ORDERS = """
version: 2
models:
  - name: orders
    description: '{{ doc("orders_table") }}'
    meta:
      primary_key: order_id
      joins:
        - join: customers
          sql_on: ${orders.customer_id} = ${customers.customer_id}
          relatiosnship: many-to-one
    columns:
      - name: order_id
        description: "The order. {{ doc('order_id') }}"
        meta:
          dimension: {type: number}
      - name: status
        description: Where the order is.
        meta:
          dimension:
            description: Lightdash's own wins
      - name: amount
        description: '{{ doc("shop", "money") }}'
        meta:
          dimension: {type: number, colors: {"a": "#fff"}, formt: usd}
          metrics:
            revenue: {type: sum, urls: [], fliters: []}
      - name: customer_id
        meta:
          dimension: {type: number, timestamp_domain: {start: 2020-01-01}}
  - name: customers
    meta:
      spotlight: {visibility: show}
      lable: Customers
    columns:
      - name: customer_id
        data_tests: [unique]
        quote: true
        meta: {dimension: {type: number}}
"""
DOCS = """
{% docs orders_table %}
One row per order.
{% enddocs %}

{%- docs order_id -%}  Unique. {%- enddocs -%}
{% docs money %}Paid, in **euros**.{% enddocs %}
"""


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "shop", {"orders": ORDERS})
    (root / "models" / "docs.md").write_text(DOCS)
    return root


def test_column_description_is_the_dimension_description(shop: Path) -> None:
    orders = mq.load_project(shop).explore("orders")
    assert orders.dimensions["orders_status"].description == "Lightdash's own wins"
    assert orders.dimensions["orders_order_id"].description == "The order. Unique."
    assert orders.dimensions["orders_amount"].description == "Paid, in **euros**."
    assert orders.description == "One row per order."


def test_unknown_and_unapplied_keys_are_warnings_with_did_you_mean(shop: Path) -> None:
    warnings = mq.load_project(shop).validate()
    relationship = next(w for w in warnings if "relatiosnship" in w)
    assert relationship == (
        "models/orders.yml:11: unknown key `relatiosnship` in join 'customers' of model "
        "'orders' is ignored; did you mean `relationship`?"
    )
    assert (
        "models/orders.yml:25: unknown key `formt` in dimension of column 'amount' of model "
        "'orders' is ignored; did you mean `format`?"
    ) in warnings
    assert any("`fliters` in metric 'revenue' of column 'amount'" in w for w in warnings)
    assert any("`lable` in meta of model 'customers'" in w and "`label`?" in w for w in warnings)
    assert any(
        "`timestamp_domain` of dimension of column 'customer_id' of model 'orders' is not "
        "implemented by metricql yet" in w
        for w in warnings
    )
    quiet = ("colors", "urls", "spotlight", "data_tests", "quote")
    assert not [w for w in warnings if any(f"`{key}`" in w for key in quiet)]
    assert len(warnings) == 5


def test_validate_prints_the_key_warnings(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(shop)]) == 0
    out, err = capsys.readouterr()
    assert "warning: models/orders.yml:11: unknown key `relatiosnship`" in err
    assert out.endswith("ok: project 'demo', 2 explores, 5 warning(s)\n")


def test_a_missing_docs_block_is_a_warning(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"orders": ORDERS})
    warnings = mq.load_project(root).validate()
    assert (
        "models/orders.yml: description uses doc('orders_table'), but no docs block has that name"
        in warnings
    )


def test_key_lists_are_disjoint_and_cover_what_the_schema_reads() -> None:
    for place, presentation in PRESENTATION_ONLY.items():
        read = read_keys(place)
        assert not presentation & read, place
        assert not NOT_IMPLEMENTED[place] & read, place
        assert not presentation & NOT_IMPLEMENTED[place], place
        assert known_keys(place) == read | presentation | NOT_IMPLEMENTED[place]
    assert {"relationship", "sql_on", "join"} <= read_keys("join")


def test_seed_loads_sub_folders_with_dbt_column_types(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"orders": ORDERS})
    (root / "dbt_project.yml").write_text(
        "name: demo\nprofile: demo\nseeds:\n  demo:\n    lookups:\n"
        "      +column_types: {code: varchar, rate: 'decimal(10, 3)'}\n"
    )
    (root / "seeds" / "lookups" / "deep").mkdir(parents=True)
    (root / "seeds" / "lookups" / "deep" / "codes.csv").write_text("code,rate,day\n007,1.5,1\n")
    (root / "seeds" / "top.csv").write_text("zip,n\n01234,2\n")
    (root / "seeds" / "seeds.yml").write_text(
        "version: 2\nseeds:\n  - name: top\n    config:\n      column_types: {zip: text}\n"
    )
    conn = duckdb.connect()
    project = mq.load_project(root)
    assert sorted(project.seed(connection=conn)) == ["main.codes", "main.top"]
    described = "SELECT column_name, data_type FROM duckdb_columns() WHERE NOT internal"
    types = dict(conn.sql(described).fetchall())
    assert types == {
        "code": "VARCHAR",
        "rate": "DECIMAL(10,3)",
        "day": "BIGINT",
        "zip": "VARCHAR",
        "n": "BIGINT",
    }
    assert conn.sql("SELECT code, zip FROM main.codes, main.top").fetchall() == [("007", "01234")]


def test_a_bad_seed_column_type_names_the_file(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"orders": ORDERS})
    (root / "dbt_project.yml").write_text(
        "name: demo\nprofile: demo\nseeds:\n  +column_types: {code: 'int); drop table x; --'}\n"
    )
    (root / "seeds").mkdir()
    (root / "seeds" / "codes.csv").write_text("code\n1\n")
    with pytest.raises(mq.WarehouseError) as err:
        mq.load_project(root).seed(connection=duckdb.connect())
    assert err.value.context["file"].endswith("seeds/codes.csv")


def test_load_warnings_are_issues_with_codes_and_places(shop: Path) -> None:
    issues = mq.load_project(shop).issues
    by_code = {i.code: i for i in issues}
    assert sorted(by_code) == ["key_not_implemented", "unknown_key"]
    typo = next(i for i in issues if "relatiosnship" in i.message)
    assert (typo.code, typo.level, typo.where.file, typo.where.line) == (
        "unknown_key",
        "warning",
        "models/orders.yml",
        11,
    )
    assert typo.hint is not None and "relationship" in typo.hint
    assert typo.to_dict()["line"] == 11
