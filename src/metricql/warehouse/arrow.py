"""Arrow in the warehouse layer: the optional pyarrow import, Arrow columns as the Python
values a DB-API fetch gives, and reading a capped number of rows from record batches.

pyarrow is optional (`metricql[arrow]`): without it every engine fetches Python rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType, ModuleType
from typing import Any

from metricql.errors import MissingDependencyError

ARROW_EXTRA_HINT = "pip install metricql[arrow]"
# DuckDB (and Spark) count a month of an interval as 30 days when giving a timedelta.
_DAYS_PER_MONTH = 30


def pyarrow_module(feature: str) -> ModuleType:
    """The pyarrow module; MissingDependencyError naming `feature` when it is not installed."""
    try:
        import pyarrow
    except ImportError:
        raise MissingDependencyError(
            f"{feature} needs pyarrow, which is not installed", hint=ARROW_EXTRA_HINT
        ) from None
    module: ModuleType = pyarrow
    return module


def has_pyarrow() -> bool:
    """True when pyarrow imports."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def _values(column: Any) -> list[Any]:
    """A column's Python values; values beyond Python's date range (±infinity) are clamped
    to its ends, as DuckDB's own fetch does."""
    try:
        fast = _TEMPORAL.get(str(column.type).split("[")[0])
        values: list[Any] = fast(column) if fast else column.to_pylist()
    except (OverflowError, ValueError):
        values = [_clamped(scalar) for scalar in column]
    return values


_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _dates(column: Any) -> list[Any]:
    """date32 from day numbers: several times faster than pyarrow's own conversion."""
    pa = pyarrow_module("reading dates")
    ordinal = dt.date.fromordinal
    days = column.cast(pa.int32()).to_pylist()
    return [None if d is None else ordinal(d + _EPOCH_ORDINAL) for d in days]


def _timestamps(column: Any) -> list[Any]:
    """Timestamps from microsecond counts; zoned ones in the column's own zone object."""
    pa = pyarrow_module("reading timestamps")
    zone = column.type.tz
    micros = column.cast(pa.timestamp("us", tz=zone)).cast(pa.int64()).to_pylist()
    delta = dt.timedelta
    if zone is None:
        return [None if m is None else _EPOCH + delta(microseconds=m) for m in micros]
    first = next((v for v in column.drop_null()[:1].to_pylist()), None)
    if first is None:
        return [None] * len(micros)
    tz = first.tzinfo  # the object pyarrow would give each value
    return [None if m is None else (_EPOCH_UTC + delta(microseconds=m)).astimezone(tz)
            for m in micros]  # fmt: skip


_TEMPORAL: Mapping[str, Callable[[Any], list[Any]]] = {"date32": _dates, "timestamp": _timestamps}


def _clamped(scalar: Any) -> Any:
    try:
        return scalar.as_py()
    except OverflowError:
        pa = pyarrow_module("reading dates beyond year 9999")
        storage = pa.int32() if pa.types.is_date32(scalar.type) else pa.int64()
        positive = scalar.cast(storage).as_py() > 0
        if pa.types.is_date(scalar.type):
            return dt.date.max if positive else dt.date.min
        return dt.datetime.max if positive else dt.datetime.min


def _each(convert: Callable[[Any], Any]) -> Callable[[Any], list[Any]]:
    return lambda column: [None if v is None else convert(v) for v in _values(column)]


def _interval(value: Any) -> dt.timedelta:
    months, days, nanoseconds = value
    return dt.timedelta(days=months * _DAYS_PER_MONTH + days, microseconds=nanoseconds // 1000)


def _microseconds(column: Any) -> list[Any]:
    pa = pyarrow_module("reading nanosecond timestamps")
    unit = pa.timestamp("us", tz=column.type.tz)
    return _values(column.cast(unit, safe=False))  # truncates, as DuckDB's fetch does


# Conversion name (set per column by the warehouse that fetched it) → Arrow column → values.
CONVERTERS: Mapping[str, Callable[[Any], list[Any]]] = MappingProxyType(
    {
        "plain": _values,
        "int": _each(lambda d: int(d) if isinstance(d, Decimal) else d),  # DuckDB HUGEINT
        "uuid": _each(lambda s: s if isinstance(s, uuid.UUID) else uuid.UUID(s)),
        "interval": _each(_interval),
        "decimal": _each(lambda text: text if isinstance(text, Decimal) else Decimal(text)),
        "timestamp_us": _microseconds,
    }
)


# Opaque Arrow extension types (ADBC's way to pass a type it has no Arrow twin for) whose
# text a DB-API driver would give as a Python value: PostgreSQL's unbounded NUMERIC.
_OPAQUE: Mapping[str, str] = MappingProxyType({"numeric": "decimal", "decimal": "decimal"})


def arrow_conversions(schema: Any) -> dict[str, str]:
    """Per column of an Arrow schema from a DB-API driver, the conversion its values need to
    be what that driver's own fetch gives (Decimal for ADBC's opaque NUMERIC, …)."""
    pa = pyarrow_module("reading Arrow results")
    out: dict[str, str] = {}
    for field in schema:
        opaque = _OPAQUE.get(str(getattr(field.type, "type_name", "")).lower())
        if opaque is not None:
            out[field.name] = opaque
        elif pa.types.is_interval(field.type):
            out[field.name] = "interval"
    return out


def python_columns(data: Any, conversions: Sequence[str]) -> list[list[Any]]:
    """Each column of `data` (Table or RecordBatch) as Python values, converted as named."""
    return [CONVERTERS[how](data.column(i)) for i, how in enumerate(conversions)]


def capped_batches(batches: Iterable[Any], max_rows: int | None) -> Iterator[Any]:
    """Record batches (or Arrow tables) up to `max_rows` rows; stops reading once there."""
    left = max_rows
    for batch in batches:
        if left is None:
            yield batch
            continue
        if left <= 0:
            return
        if batch.num_rows > left:
            batch = batch.slice(0, left)
        left -= batch.num_rows
        yield batch
        if left == 0:
            return


def capped_rows(
    fetchmany: Callable[[int], list[Any]], max_rows: int | None, size: int
) -> Iterator[list[Any]]:
    """Row chunks of at most `size` from `fetchmany`, never asking for more than `max_rows`."""
    left = max_rows
    while left is None or left > 0:
        rows = fetchmany(size if left is None else min(size, left))
        if not rows:
            return
        if left is not None:
            left -= len(rows)
        yield [tuple(r) for r in rows]
