"""Cell values as JSON and as text: the one place that decides how each Python type looks.

Decisions (documented for users in `QueryResult.to_dict` and `formatting`):
- JSON: `Decimal` → JSON number (float; exact digits beyond ~15 significant are lost, as in
  Lightdash's JavaScript numbers — use `rows` or CSV for exact values); NaN/±Infinity → null
  (as JavaScript's `JSON.stringify`); dates, times and timestamps → ISO 8601 strings
  (`2024-01-02`, `2024-01-02T03:04:05`); bytes → hex; UUID and other types → `str()`.
- Text (CSV, tables): `Decimal` exactly, never in exponent form (`12.50`); floats as the
  shortest round-tripping repr; booleans `true`/`false`; timestamps `YYYY-MM-DD HH:MM:SS[.ffffff]`
  (plus `+HH:MM` when zoned); lists and structs as JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from typing import Any

_NON_FINITE_TEXT = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def json_value(value: Any) -> Any:
    """`value` as a JSON-serialisable Python value (see the module docstring)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, (dt.date, dt.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return str(value)


def text_value(value: Any) -> str:
    """`value` as cell text for CSV and tables; the caller decides how to show None."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return _NON_FINITE_TEXT.get(text, text)
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else str(value)  # NaN, Infinity
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(json_value(value), ensure_ascii=False)
    if value is None:
        return ""
    converted = json_value(value)
    return converted if isinstance(converted, str) else str(converted)
