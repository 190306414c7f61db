"""A `QueryResult` as text: an aligned table for people, CSV and JSON for programs.

- Table: header of field ids (or labels), numbers right-aligned, NULL shown as `∅` (an empty
  string stays empty), numbers rounded to the field's `round` if set, else floats to 12
  significant digits (hiding binary noise such as `41.35000000000001`), line breaks and tabs
  shown as `\\n` `\\r` `\\t`, long cells cut with `…`.
- CSV: header of field ids, comma-separated, `\\n` line ends, quoted only when needed (RFC 4180
  quoting), NULL → empty field, values as in `metricql.results.values.text_value`. No BOM: the
  caller writes the text as UTF-8.
- JSON: `QueryResult.to_dict()` on one line, non-ASCII kept as is.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from metricql.compiler.compiled import CompiledField
from metricql.results.result import QueryResult
from metricql.results.values import text_value

__all__ = ["NULL_TEXT", "format_csv", "format_grid", "format_json", "format_table"]

NULL_TEXT = "∅"
_ESCAPES = str.maketrans(
    {
        **{c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))},  # ESC, BEL, CSI, …
        **{ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"},
    }
)  # data may carry terminal control sequences: show them, never send them to the terminal
_GAP = "  "


def format_json(result: QueryResult) -> str:
    """`{"fields": [...], "rows": [...]}` on one line (always valid JSON: no NaN)."""
    return json.dumps(result.to_dict(), ensure_ascii=False, allow_nan=False)


def format_csv(result: QueryResult) -> str:
    """CSV with a header of field ids; NULL is an empty field (see `results.csv`)."""
    return "".join(result.csv_chunks())


def format_table(
    result: QueryResult, *, max_rows: int | None = 100, labels: bool = False, max_width: int = 40
) -> str:
    """An aligned plain-text table; rows beyond `max_rows` are counted in a last line."""
    header = [f.label if labels else f.id for f in result.fields]
    shown = result.rows if max_rows is None else result.rows[:max_rows]
    body = [[_cell(row.get(f.id), f) for f in result.fields] for row in shown]
    right = [_is_numeric_column(shown, f.id) for f in result.fields]
    text = format_grid(header, body, right=right, max_width=max_width)
    hidden = len(result.rows) - len(shown)
    if hidden:
        return f"{text}\n… {hidden} more row{'s' if hidden != 1 else ''}"
    return text if result.rows else f"{text}\n(no rows)"


def format_grid(
    header: Sequence[str],
    body: Sequence[Sequence[str]],
    *,
    right: Sequence[bool] = (),
    max_width: int = 40,
) -> str:
    """Text cells aligned in columns under a header and a rule; `right` aligns columns right
    (header included).

    Cells wider than `max_width` are cut with `…`; line breaks and tabs are shown escaped.
    """
    head = [_cut(h.translate(_ESCAPES), max_width) for h in header]
    rows = [[_cut(c.translate(_ESCAPES), max_width) for c in cells] for cells in body]
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(head)]
    align = [i < len(right) and right[i] for i in range(len(head))]
    lines = [
        _line(head, widths, align),
        _GAP.join("-" * w for w in widths),
        *(_line(cells, widths, align) for cells in rows),
    ]
    return "\n".join(lines)


def _cell(value: Any, field: CompiledField) -> str:
    if value is None:
        return NULL_TEXT
    if _is_number(value) and field.round is not None and field.round >= 0:
        return f"{value:.{field.round}f}"
    if isinstance(value, float) and math.isfinite(value):
        return _float_text(value)
    return text_value(value)


def _float_text(value: float) -> str:
    # 12 significant digits hide the noise of float arithmetic (84.00000000000006) but would
    # put large values in exponent form, so those keep 15.
    return f"{value:.12g}" if abs(value) < 1e12 else f"{value:.15g}"


def _is_numeric_column(rows: list[dict[str, Any]], column: str) -> bool:
    values = [row.get(column) for row in rows]
    present = [v for v in values if v is not None]
    return bool(present) and all(_is_number(v) for v in present)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _line(cells: list[str], widths: list[int], right: list[bool]) -> str:
    padded = [
        " " * (w - _width(c)) + c if r else c + " " * (w - _width(c))
        for c, w, r in zip(cells, widths, right, strict=True)
    ]
    return _GAP.join(padded).rstrip()


def _cut(text: str, max_width: int) -> str:
    if _width(text) <= max_width:
        return text
    out, used = [], 0
    for char in text:
        used += _char_width(char)
        if used > max_width - 1:
            break
        out.append(char)
    return "".join(out) + "…"


def _width(text: str) -> int:
    """Terminal columns `text` takes: wide East Asian characters 2, combining marks 0."""
    return sum(_char_width(c) for c in text)


def _char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
