"""Lightdash's CSV download (SPEC §9), written row by row to a text stream.

- Columns: the result's fields minus `hidden_fields`, stable-sorted by their index in
  `column_order` (fields not listed come first, in result order).
- Header: `custom_labels[id]`, else the field label, prefixed with its table label when
  `show_table_names`.
- Cells: NULL empty; dates `YYYY-MM-DD` and timestamps `YYYY-MM-DD HH:mm:ss.SSS` always; other
  values raw with `only_raw`, else as Lightdash formats them (`1,234.50`, `$12.00`, `Yes`).
- UTF-8 BOM first, `,` between cells, `\\n` after each row, a cell quoted only when it holds
  `,`, `"`, `\\n` or `\\r`.

metricql decision: an empty result still gets its header line (Lightdash writes no columns).

`csv_chunks` is the plain form `QueryResult.csv_chunks()` streams: a header of field ids, `\\n`
line ends, RFC 4180 quoting only when needed, NULL as an empty field, values as
`metricql.results.values.text_value` writes them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from metricql.compiler.compiled import CompiledField
from metricql.results.lightdash import formatted_value
from metricql.results.values import text_value

__all__ = [
    "CSV_CELLS_LIMIT",
    "CsvOptions",
    "CsvSummary",
    "csv_chunks",
    "csv_row_cap",
    "write_csv",
]

CSV_CELLS_LIMIT = 100_000  # Lightdash's default `csvCellsLimit`
_BOM = "\ufeff"
_NEEDS_QUOTES = frozenset(',"\n\r')


@dataclass(frozen=True, slots=True)
class CsvOptions:
    """How a CSV download looks: Lightdash's `downloadCsv` body, without the query."""

    only_raw: bool = False
    show_table_names: bool = False
    custom_labels: Mapping[str, str] = field(default_factory=dict)
    column_order: Sequence[str] = ()
    hidden_fields: Sequence[str] = ()
    max_rows: int | None = None


@dataclass(frozen=True, slots=True)
class CsvSummary:
    """What was written: rows, columns, and whether the cells cap cut the result short."""

    rows: int
    columns: tuple[str, ...]
    truncated: bool


def csv_row_cap(
    csv_limit: int | None, *, query_limit: int | None, columns: int, unset: bool = False
) -> int | None:
    """Rows a CSV may hold (SPEC §5.2): `unset` → the query's limit; None → all rows up to the
    cells cap; a number → that number, at most the cap."""
    cap = CSV_CELLS_LIMIT // max(columns, 1)
    if unset:
        return query_limit
    return cap if csv_limit is None else min(csv_limit, cap)


def write_csv(
    fields: Sequence[CompiledField],
    rows: Iterable[Mapping[str, Any]],
    stream: TextIO,
    options: CsvOptions = CsvOptions(),
) -> CsvSummary:
    """Write `rows` as Lightdash's CSV to `stream` one row at a time; return a summary."""
    columns = _columns(fields, options)
    stream.write(_BOM)
    stream.write(_line(_header(f, options) for f in columns))
    written = 0
    for row in rows:
        if options.max_rows is not None and written >= options.max_rows:
            break
        stream.write(
            _line(
                neutralised(row.get(f.id), _cell(row.get(f.id), f, options.only_raw))
                for f in columns
            )
        )
        written += 1
    truncated = written * len(columns) >= CSV_CELLS_LIMIT - len(columns)
    return CsvSummary(rows=written, columns=tuple(f.id for f in columns), truncated=truncated)


def _columns(fields: Sequence[CompiledField], options: CsvOptions) -> list[CompiledField]:
    hidden = set(options.hidden_fields)
    order = {fid: i for i, fid in enumerate(options.column_order)}
    shown = [f for f in fields if f.id not in hidden]
    return sorted(shown, key=lambda f: order.get(f.id, -1))  # sorted() is stable


def _header(field: CompiledField, options: CsvOptions) -> str:
    custom = options.custom_labels.get(field.id)
    if custom is not None:
        return custom
    if options.show_table_names and field.table_label:
        return f"{field.table_label} {field.label}"
    return field.label or field.id


def _cell(value: Any, field: CompiledField, only_raw: bool) -> str:
    if value is None:
        return ""
    if field.type == "timestamp" and isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if field.type in ("date", "timestamp") and isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    return text_value(value) if only_raw else formatted_value(value, field)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any, text: str) -> str:
    """A text cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) gets a
    leading `'`, as OWASP advises; numbers (a negative one included) are left as they are."""
    return "'" + text if isinstance(value, str) and text.startswith(_FORMULA_START) else text


def _line(cells: Iterable[str]) -> str:
    return ",".join(_quoted(c) for c in cells) + "\n"


def _quoted(cell: str) -> str:
    if _NEEDS_QUOTES.isdisjoint(cell):
        return cell
    return '"' + cell.replace('"', '""') + '"'


def csv_chunks(columns: Sequence[str], chunks: Iterable[Sequence[Sequence[Any]]]) -> Iterator[str]:
    """The header line, then the text of each chunk of rows (rows are in `columns` order)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    # With `\n` line ends the csv module does not quote a bare `\r`; quote such rows fully.
    quote_all = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(columns)
    yield _taken(out)
    for rows in chunks:
        for row in rows:
            cells = [neutralised(value, text_value(value)) for value in row]
            (quote_all if any("\r" in cell for cell in cells) else writer).writerow(cells)
        yield _taken(out)


def _taken(out: io.StringIO) -> str:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text
