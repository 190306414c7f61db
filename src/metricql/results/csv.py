"""CSV text, chunk by chunk: header of field ids, `\\n` line ends, RFC 4180 quoting only when
needed, NULL as an empty field, values as `metricql.results.values.text_value` writes them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from metricql.results.values import text_value

__all__ = ["csv_chunks"]


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
            cells = [text_value(value) for value in row]
            (quote_all if any("\r" in cell for cell in cells) else writer).writerow(cells)
        yield _taken(out)


def _taken(out: io.StringIO) -> str:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text
