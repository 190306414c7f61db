"""QueryResult and its text forms, on a hand-made result full of awkward values."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from decimal import Decimal

import pytest
from sqlglot import exp

from metricql.compiler.compiled import CompiledField, CompiledQuery
from metricql.errors import MetricQLError, MissingDependencyError, WarehouseError
from metricql.results.formatting import format_csv, format_grid, format_json, format_table
from metricql.results.result import QueryResult
from metricql.results.values import json_value, text_value
from metricql.semantic.fields import FieldKind

FIELDS = (
    CompiledField(
        "customers_name", "Name", "string", FieldKind.DIMENSION, "customers", "Customers"
    ),
    CompiledField(
        "orders_order_date_day",
        "Order date day",
        "date",
        FieldKind.DIMENSION,
        "orders",
        "Orders",
        time_interval="DAY",
    ),
    CompiledField("orders_placed_at", "Placed at", "timestamp", FieldKind.DIMENSION, "orders"),
    CompiledField("orders_is_paid", "Is paid", "boolean", FieldKind.DIMENSION, "orders"),
    CompiledField("orders_order_count", "Order count", "count", FieldKind.METRIC, "orders"),
    CompiledField("orders_revenue", "Revenue", "sum", FieldKind.METRIC, "orders", round=2),
)
SQL = 'SELECT 1 AS "customers_name"'
ROWS = [
    (
        'Smith, "Bob"',
        dt.date(2024, 1, 2),
        dt.datetime(2024, 1, 2, 3, 4, 5),
        True,
        3,
        Decimal("1234.50"),
    ),
    (
        "héllo ✓\nsecond line",
        dt.date(2024, 2, 29),
        dt.datetime(2024, 2, 29, 23, 59, 59, 123456),
        False,
        10,
        Decimal("0.05"),
    ),
    (None, None, None, None, 0, None),
    ("", dt.date(2023, 12, 31), dt.datetime(2023, 12, 31), None, 1, Decimal("-7")),
]


def _compiled(fields: tuple[CompiledField, ...] = FIELDS) -> CompiledQuery:
    return CompiledQuery(
        sql=SQL,
        dialect="duckdb",
        fields=fields,
        explore="orders",
        tree=exp.select("1"),
        warnings=("metric orders_revenue may be inflated",),
    )


@pytest.fixture
def result() -> QueryResult:
    return QueryResult.from_rows(_compiled(), [f.id for f in FIELDS], ROWS)


# --- QueryResult -----------------------------------------------------------------------


def test_from_rows_keys_rows_by_field_id(result: QueryResult) -> None:
    assert result.columns == tuple(f.id for f in FIELDS)
    assert result.rows[0] == {
        "customers_name": 'Smith, "Bob"',
        "orders_order_date_day": dt.date(2024, 1, 2),
        "orders_placed_at": dt.datetime(2024, 1, 2, 3, 4, 5),
        "orders_is_paid": True,
        "orders_order_count": 3,
        "orders_revenue": Decimal("1234.50"),
    }
    assert result.sql == SQL
    assert result.dialect == "duckdb"
    assert result.warnings == ("metric orders_revenue may be inflated",)
    assert result.fields == FIELDS


def test_from_rows_matches_columns_ignoring_case() -> None:
    columns = [f.id.upper() for f in FIELDS]
    result = QueryResult.from_rows(_compiled(), columns, ROWS[:1])
    assert list(result.rows[0]) == [f.id for f in FIELDS]


@pytest.mark.parametrize(
    "columns",
    [
        [f.id for f in FIELDS][:-1],  # one missing
        [f.id for f in FIELDS][::-1],  # wrong order
        [*[f.id for f in FIELDS], "extra"],
    ],
)
def test_from_rows_column_mismatch_is_a_warehouse_error(columns: list[str]) -> None:
    with pytest.raises(WarehouseError) as info:
        QueryResult.from_rows(_compiled(), columns, [])
    assert info.value.sql == SQL
    assert "customers_name" in info.value.message


def test_to_dict_is_json_safe(result: QueryResult) -> None:
    out = result.to_dict()
    assert out["fields"] == [f.to_dict() for f in FIELDS]
    assert out["rows"] == [
        {
            "customers_name": 'Smith, "Bob"',
            "orders_order_date_day": "2024-01-02",
            "orders_placed_at": "2024-01-02T03:04:05",
            "orders_is_paid": True,
            "orders_order_count": 3,
            "orders_revenue": 1234.5,
        },
        {
            "customers_name": "héllo ✓\nsecond line",
            "orders_order_date_day": "2024-02-29",
            "orders_placed_at": "2024-02-29T23:59:59.123456",
            "orders_is_paid": False,
            "orders_order_count": 10,
            "orders_revenue": 0.05,
        },
        {
            "customers_name": None,
            "orders_order_date_day": None,
            "orders_placed_at": None,
            "orders_is_paid": None,
            "orders_order_count": 0,
            "orders_revenue": None,
        },
        {
            "customers_name": "",
            "orders_order_date_day": "2023-12-31",
            "orders_placed_at": "2023-12-31T00:00:00",
            "orders_is_paid": None,
            "orders_order_count": 1,
            "orders_revenue": -7.0,
        },
    ]
    assert json.loads(json.dumps(out, allow_nan=False)) == out


@pytest.mark.parametrize(
    ("value", "as_json", "as_text"),
    [
        (None, None, ""),
        (True, True, "true"),
        (7, 7, "7"),
        (10**30, 10**30, str(10**30)),
        (0.1 + 0.2, 0.30000000000000004, "0.30000000000000004"),
        (float("nan"), None, "NaN"),
        (float("-inf"), None, "-Infinity"),
        (Decimal("12.50"), 12.5, "12.50"),
        (Decimal("1E+3"), 1000.0, "1000"),
        (Decimal("NaN"), None, "NaN"),
        (dt.date(2024, 1, 2), "2024-01-02", "2024-01-02"),
        (
            dt.datetime(2024, 1, 2, 3, 4, 5, 600),
            "2024-01-02T03:04:05.000600",
            "2024-01-02 03:04:05.000600",
        ),
        (
            dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc),
            "2024-01-02T00:00:00+00:00",
            "2024-01-02 00:00:00+00:00",
        ),
        (dt.time(10, 30), "10:30:00", "10:30:00"),
        (b"\x00\xff", "00ff", "00ff"),
        ([1, None, "a"], [1, None, "a"], '[1, null, "a"]'),
        ({"k": Decimal("1.5")}, {"k": 1.5}, '{"k": 1.5}'),
        (dt.timedelta(hours=1), "1:00:00", "1:00:00"),
    ],
)
def test_value_conversions(value: object, as_json: object, as_text: str) -> None:
    assert json_value(value) == as_json
    assert text_value(value) == as_text


# --- CSV -------------------------------------------------------------------------------

EXPECTED_CSV = (
    "customers_name,orders_order_date_day,orders_placed_at,orders_is_paid,"
    "orders_order_count,orders_revenue\n"
    '"Smith, ""Bob""",2024-01-02,2024-01-02 03:04:05,true,3,1234.50\n'
    '"héllo ✓\nsecond line",2024-02-29,2024-02-29 23:59:59.123456,false,10,0.05\n'
    ",,,,0,\n"
    ",2023-12-31,2023-12-31 00:00:00,,1,-7\n"
)


def test_format_csv_exact(result: QueryResult) -> None:
    assert format_csv(result) == EXPECTED_CSV


def test_format_csv_reads_back(result: QueryResult) -> None:
    back = list(csv.reader(io.StringIO(format_csv(result), newline="")))
    assert back[0] == list(result.columns)
    assert back[1][0] == 'Smith, "Bob"'
    assert back[2][0] == "héllo ✓\nsecond line"
    assert len(back) == 1 + len(ROWS)


def test_format_csv_quotes_carriage_returns() -> None:
    fields = FIELDS[:1] + FIELDS[4:5]
    result = QueryResult.from_rows(_compiled(fields), [f.id for f in fields], [("a\rb", 1)])
    text = format_csv(result)
    assert text == 'customers_name,orders_order_count\n"a\rb","1"\n'
    assert list(csv.reader(io.StringIO(text, newline="")))[1] == ["a\rb", "1"]


def test_format_csv_empty_result_has_header() -> None:
    result = QueryResult.from_rows(_compiled(), [f.id for f in FIELDS], [])
    assert format_csv(result) == EXPECTED_CSV.split("\n", 2)[0] + "\n"


# --- JSON ------------------------------------------------------------------------------


def test_format_json_exact(result: QueryResult) -> None:
    text = format_json(result)
    assert "\n" not in text
    assert "héllo ✓" in text  # not \u-escaped
    assert json.loads(text) == result.to_dict()
    assert text.startswith('{"fields": [{"id": "customers_name", "label": "Name", "type": "string"')
    assert text.endswith(
        '{"customers_name": "", "orders_order_date_day": "2023-12-31", '
        '"orders_placed_at": "2023-12-31T00:00:00", "orders_is_paid": null, '
        '"orders_order_count": 1, "orders_revenue": -7.0}]}'
    )


def test_format_json_never_emits_nan() -> None:
    fields = FIELDS[4:6]
    rows = [(1, float("nan")), (2, float("inf"))]
    result = QueryResult.from_rows(_compiled(fields), [f.id for f in fields], rows)
    assert json.loads(format_json(result))["rows"] == [
        {"orders_order_count": 1, "orders_revenue": None},
        {"orders_order_count": 2, "orders_revenue": None},
    ]


# --- table -----------------------------------------------------------------------------

EXPECTED_TABLE = "\n".join(
    [
        "customers_name        orders_order_date_day  orders_placed_at            "
        "orders_is_paid  orders_order_count  orders_revenue",
        "--------------------  ---------------------  --------------------------  "
        "--------------  ------------------  --------------",
        'Smith, "Bob"          2024-01-02             2024-01-02 03:04:05         '
        "true                             3         1234.50",
        # a line break is shown escaped; ✓ is one column wide
        "héllo ✓\\nsecond line  2024-02-29             2024-02-29 23:59:59.123456  "
        "false                           10            0.05",
        # NULL is ∅; the empty string stays empty; numbers align right
        "∅                     ∅                      ∅                           "
        "∅                                0               ∅",
        # orders_revenue has round=2
        "                      2023-12-31             2023-12-31 00:00:00         "
        "∅                                1           -7.00",
    ]
)


def test_format_table_exact(result: QueryResult) -> None:
    assert format_table(result) == EXPECTED_TABLE


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (41.35000000000001, "41.35"),
        (84.00000000000006, "84"),
        (46.2861035422343, "46.2861035422"),
        (123456789012345.0, "123456789012345"),
        (1.5e-7, "1.5e-07"),
        (float("nan"), "NaN"),
    ],
)
def test_format_table_hides_float_noise_but_csv_keeps_it(value: float, shown: str) -> None:
    fields = FIELDS[4:5]
    result = QueryResult.from_rows(_compiled(fields), [f.id for f in fields], [(value,)])
    assert format_table(result).split("\n")[-1].strip() == shown
    assert format_csv(result).split("\n")[1] == text_value(value)


def test_format_table_truncates_rows(result: QueryResult) -> None:
    lines = format_table(result, max_rows=1).split("\n")
    assert len(lines) == 4
    assert lines[-1] == "… 3 more rows"
    assert format_table(result, max_rows=3).split("\n")[-1] == "… 1 more row"
    assert "more row" not in format_table(result, max_rows=None)


def test_format_table_labels_and_empty() -> None:
    fields = FIELDS[:1] + FIELDS[4:5]
    result = QueryResult.from_rows(_compiled(fields), [f.id for f in fields], [])
    assert format_table(result, labels=True) == "Name  Order count\n----  -----------\n(no rows)"


def test_format_table_cuts_wide_cells_by_display_width() -> None:
    fields = FIELDS[:1]
    rows = [("数据" * 10,), ("x" * 50,)]
    result = QueryResult.from_rows(_compiled(fields), [f.id for f in fields], rows)
    lines = format_table(result, max_width=9).split("\n")
    assert lines == ["customer…", "---------", "数据数据…", "xxxxxxxx…"]


def test_format_grid_aligns_wide_characters() -> None:
    text = format_grid(["a", "n"], [["数据", "1"], ["x", "22"]], right=[False, True])
    assert text == "a      n\n----  --\n数据   1\nx     22"


# --- Arrow -----------------------------------------------------------------------------


def test_to_arrow_round_trip(result: QueryResult) -> None:
    pa = pytest.importorskip("pyarrow")
    table = result.to_arrow()
    assert isinstance(table, pa.Table)
    assert table.column_names == list(result.columns)
    assert table.to_pylist() == result.rows
    types = {f.name: f.type for f in table.schema}
    assert types["orders_order_date_day"] == pa.date32()
    assert types["orders_placed_at"] == pa.timestamp("us")
    assert types["orders_is_paid"] == pa.bool_()
    assert types["orders_order_count"] == pa.int64()
    assert pa.types.is_decimal(types["orders_revenue"])
    meta = table.schema.field("orders_revenue").metadata
    assert meta[b"label"] == b"Revenue"
    assert meta[b"kind"] == b"metric"
    assert meta[b"table"] == b"orders"


def test_to_arrow_all_null_column_typed_from_field() -> None:
    pa = pytest.importorskip("pyarrow")
    fields = FIELDS[:2] + FIELDS[4:5]
    result = QueryResult.from_rows(_compiled(fields), [f.id for f in fields], [(None, None, None)])
    types = [f.type for f in result.to_arrow().schema]
    assert types == [pa.string(), pa.date32(), pa.int64()]


def test_to_arrow_mixed_values_become_text() -> None:
    pytest.importorskip("pyarrow")
    fields = FIELDS[:1]
    result = QueryResult.from_rows(_compiled(fields), [f.id for f in fields], [(1,), ("a",)])
    assert result.to_arrow().to_pylist() == [{"customers_name": "1"}, {"customers_name": "a"}]


def test_to_arrow_without_pyarrow_says_how_to_install(
    result: QueryResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # makes `import pyarrow` fail
    with pytest.raises(MissingDependencyError) as info:
        result.to_arrow()
    assert isinstance(info.value, MetricQLError)
    assert info.value.hint == "pip install metricql[arrow]"
    assert info.value.to_dict()["code"] == "missing_dependency"
