"""Cell values as Lightdash shows them: the `formatted` text of a raw value, and result rows in
Lightdash's `{field_id: {"value": {"raw", "formatted"}}}` shape.

The rules follow Lightdash's `formatItemValue` (en-US):
- NULL → `∅`;
- numbers of number/count/sum/average/min/max… fields: thousands separators, at most three
  decimals (`1,234.568`); `round: n` gives exactly n decimals; `format: usd|gbp|eur|jpy|dkk`
  a currency (`$1,234.50`), `percent` ×100 with `round` decimals (`12%`), `km`/`mi` a unit
  suffix, `id` the plain value;
- dates by time interval: `2024-01-02`, month `2024-01`, quarter `2024-Q1`, year `2024`;
- timestamps `2024-01-02, 03:04:05:000 (+00:00)` (hour, minute and second intervals cut the
  time), naive values taken as UTC;
- booleans of boolean fields `Yes` / `No`; anything else its text.

Rounding is half away from zero on the exact value, as `Intl.NumberFormat` does.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from metricql.compiler.compiled import CompiledField
from metricql.results.values import json_value
from metricql.semantic.fields import FieldKind

__all__ = ["formatted_value", "lightdash_raw", "lightdash_row", "lightdash_rows", "sql_field"]

NULL_TEXT = "∅"
_NUMBER_TYPES = frozenset(
    {
        "number",
        "count",
        "count_distinct",
        "sum",
        "sum_distinct",
        "average",
        "average_distinct",
        "min",
        "max",
        "percentile",
        "median",
    }
)
# Symbol and default decimals of the currencies Lightdash's `format:` accepts.
_CURRENCIES: Mapping[str, tuple[str, int]] = {
    "usd": ("$", 2),
    "gbp": ("£", 2),
    "eur": ("€", 2),
    "jpy": ("¥", 0),
    "dkk": ("DKK\u00a0", 2),
}
_DATE_FORMATS: Mapping[str, str] = {"YEAR": "%Y", "MONTH": "%Y-%m"}
_TIME_CUTS: Mapping[str, int] = {"HOUR": 2, "MINUTE": 5, "SECOND": 8}  # chars of HH:MM:SS kept


def formatted_value(value: Any, field: CompiledField | None) -> str:
    """The text Lightdash shows for `value` of `field` (see the module docstring)."""
    if value is None:
        return NULL_TEXT
    if field is None:
        return _js_text(value)
    kind = _FIELD_KINDS.get(field.type, "text")
    return _FORMATTERS[kind](value, field)


def lightdash_raw(value: Any) -> Any:
    """A raw cell as Lightdash sends it: dates and timestamps as `…T…:…:….000Z` strings."""
    convert = _RAW.get(type(value))
    return convert(value) if convert is not None else _raw_other(value)


def lightdash_row(row: Mapping[str, Any], fields: Sequence[CompiledField]) -> dict[str, Any]:
    """One result row as `{field_id: {"value": {"raw": …, "formatted": …}}}`."""
    return lightdash_rows([row], fields)[0]


def lightdash_rows(
    rows: Iterable[Mapping[str, Any]], fields: Sequence[CompiledField]
) -> list[dict[str, Any]]:
    """Rows as `lightdash_row` shapes them, each field's formatter chosen once for all rows."""
    cells = [(f.id, _formatter(f)) for f in fields]
    raw = lightdash_raw
    return [
        {fid: {"value": {"raw": raw(v := row.get(fid)), "formatted": fmt(v)}} for fid, fmt in cells}
        for row in rows
    ]


def _formatter(field: CompiledField) -> Callable[[Any], str]:
    build = _FORMATTERS[_FIELD_KINDS.get(field.type, "text")]
    return lambda value: NULL_TEXT if value is None else build(value, field)


def _raw_datetime(value: dt.datetime) -> str:
    return _utc(value).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _raw_other(value: Any) -> Any:
    if isinstance(value, dt.datetime):  # subclasses (pandas Timestamp, …)
        return _raw_datetime(value)
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%dT00:00:00.000Z")
    return json_value(value)


_RAW: Mapping[type, Callable[[Any], Any]] = {
    type(None): lambda v: v,
    str: lambda v: v,
    int: lambda v: v,
    bool: lambda v: v,
    float: json_value,
    Decimal: json_value,
    dt.datetime: _raw_datetime,
    dt.date: lambda v: v.strftime("%Y-%m-%dT00:00:00.000Z"),
}


def sql_field(column: str, values: Sequence[Any]) -> CompiledField:
    """The field of a raw SQL result column, its type (Lightdash DimensionType) from its values."""
    present = [v for v in values if v is not None]
    kind = next(
        (t for test, t in _VALUE_TYPES if present and all(test(v) for v in present)), "string"
    )
    return CompiledField(id=column, label=column, type=kind, kind=FieldKind.DIMENSION)


_VALUE_TYPES: tuple[tuple[Callable[[Any], bool], str], ...] = (
    (lambda v: isinstance(v, bool), "boolean"),
    (lambda v: isinstance(v, (int, float, Decimal)), "number"),
    (lambda v: isinstance(v, dt.datetime), "timestamp"),
    (lambda v: isinstance(v, dt.date), "date"),
)


def _number(value: Any, field: CompiledField) -> str:
    number = _as_decimal(value)
    if number is None:
        return _js_text(value)
    fmt = field.format if isinstance(field.format, str) else None
    round_ = field.round if field.round is not None and field.round >= 0 else None
    if fmt == "id":
        return _js_text(value)
    if fmt == "percent":
        digits = round_ or 0
        return f"{_quantize(number * 100, digits):f}%"
    plain: Decimal | float = value if isinstance(value, float) else number  # fast path
    currency = _CURRENCIES.get(fmt or "")
    if currency is not None:
        symbol, default = currency
        magnitude: Decimal | float = abs(value) if isinstance(value, float) else abs(number)
        text = _grouped(magnitude, round_ if round_ is not None else default, exact=True)
        return f"{'-' if number < 0 else ''}{symbol}{text}"
    text = _grouped(plain, round_ if round_ is not None else 3, exact=round_ is not None)
    return f"{text} {fmt}" if fmt in ("km", "mi") else text


def _date(value: Any, field: CompiledField) -> str:
    if not isinstance(value, dt.date):
        return _js_text(value)
    day = _utc(value).date() if isinstance(value, dt.datetime) else value
    interval = field.time_interval or "DAY"
    if interval == "QUARTER":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    return day.strftime(_DATE_FORMATS.get(interval, "%Y-%m-%d"))


def _timestamp(value: Any, field: CompiledField) -> str:
    if not isinstance(value, dt.date):
        return _js_text(value)
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    at = _utc(value)
    clock = at.strftime("%H:%M:%S") + f":{at.microsecond // 1000:03d}"
    cut = _TIME_CUTS.get(field.time_interval or "")
    return f"{at:%Y-%m-%d}, {clock[:cut] if cut else clock} (+00:00)"


def _boolean(value: Any, _: CompiledField) -> str:
    return "Yes" if str(value) in ("True", "true", "yes", "Yes", "1", "T") else "No"


def _text(value: Any, _: CompiledField) -> str:
    return _js_text(value)


def _min_max(value: Any, field: CompiledField) -> str:
    if isinstance(value, dt.date):  # MIN/MAX of a date or timestamp column
        return _timestamp(value, field)
    return _number(value, field)


_FORMATTERS: Mapping[str, Callable[[Any, CompiledField], str]] = {
    "number": _number,
    "minmax": _min_max,
    "date": _date,
    "timestamp": _timestamp,
    "boolean": _boolean,
    "text": _text,
}
_FIELD_KINDS: Mapping[str, str] = {
    **dict.fromkeys(_NUMBER_TYPES, "number"),
    "min": "minmax",
    "max": "minmax",
    "date": "date",
    "timestamp": "timestamp",
    "boolean": "boolean",
}


def _as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return Decimal(value) if math.isfinite(value) else None
    if isinstance(value, (int, Decimal)):
        return Decimal(value) if Decimal(value).is_finite() else None
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _quantize(number: Decimal, digits: int) -> Decimal:
    return number.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def _grouped(number: Decimal | float, digits: int, *, exact: bool) -> str:
    """`1,234.5`: at most (or, `exact`, exactly) `digits` decimals, trailing zeros cut."""
    if isinstance(number, float) and not (number * 2 ** (digits + 1)).is_integer():
        # A tie (…5 exactly past the last digit) needs x·2^(digits+1) to be whole; without one
        # Python's correctly rounded float formatting agrees with half-away-from-zero.
        text = f"{number:,.{digits}f}"
    else:
        text = f"{_quantize(Decimal(number), digits):,f}"
    if not exact and "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _js_text(value: Any) -> str:
    """`${value}` in JavaScript: `1` for 1.0, `true`/`false`, ISO dates."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value.is_finite() else str(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    converted = json_value(value)
    return converted if isinstance(converted, str) else str(converted)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.timezone.utc) if value.tzinfo is not None else value
