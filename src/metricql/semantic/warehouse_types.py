"""A warehouse's column type (YAML `data_type`, catalog.json, information_schema) → dimension type.

Names are compared without parameters, wrappers and case: `DECIMAL(10, 2)`, `Nullable(Int64)`,
`timestamp(3) with time zone` are DECIMAL, INT64, TIMESTAMP WITH TIME ZONE. `COMMON` holds the
names every dialect shares; `BY_DIALECT` only what one dialect adds. Anything else (text, binary,
time of day, JSON, arrays, structs, geography) is a string dimension, as in Lightdash.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from metricql.semantic.fields import DimensionType

_N, _D, _T, _B = (
    DimensionType.NUMBER,
    DimensionType.DATE,
    DimensionType.TIMESTAMP,
    DimensionType.BOOLEAN,
)


def _all(kind: DimensionType, *names: str) -> dict[str, DimensionType]:
    return dict.fromkeys(names, kind)


COMMON: Mapping[str, DimensionType] = MappingProxyType(
    {
        **_all(_N, "INTEGER", "INT", "BIGINT", "SMALLINT", "TINYINT", "DECIMAL", "NUMERIC",
               "NUMBER", "FLOAT", "DOUBLE", "DOUBLE PRECISION", "REAL"),
        **_all(_D, "DATE"),
        **_all(_T, "TIMESTAMP", "DATETIME", "TIMESTAMP WITH TIME ZONE",
               "TIMESTAMP WITHOUT TIME ZONE"),
        **_all(_B, "BOOLEAN", "BOOL"),
    }
)  # fmt: skip

BY_DIALECT: Mapping[str, Mapping[str, DimensionType]] = MappingProxyType(
    {
        "duckdb": {
            **_all(_N, "HUGEINT", "UHUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT",
                   "INT1", "INT2", "INT4", "INT8", "INT16", "INT32", "INT64", "INT128", "FLOAT4",
                   "FLOAT8", "VARINT", "BIGNUM"),
            **_all(_T, "TIMESTAMPTZ", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS",
                   "TIMESTAMP_US"),
            **_all(_B, "LOGICAL"),
        },
        "postgres": {
            **_all(_N, "INT2", "INT4", "INT8", "FLOAT4", "FLOAT8", "MONEY", "SERIAL",
                   "BIGSERIAL", "SMALLSERIAL"),
            **_all(_T, "TIMESTAMPTZ"),
        },
        "redshift": {
            **_all(_N, "INT2", "INT4", "INT8", "FLOAT4", "FLOAT8"),
            **_all(_T, "TIMESTAMPTZ"),
        },
        "snowflake": {
            **_all(_N, "BYTEINT", "FLOAT4", "FLOAT8", "FIXED"),
            **_all(_T, "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ"),
        },
        "bigquery": {**_all(_N, "INT64", "FLOAT64", "BIGNUMERIC", "BIGDECIMAL")},
        "databricks": {**_all(_N, "LONG", "SHORT", "BYTE"), **_all(_T, "TIMESTAMP_NTZ")},
        "spark": {**_all(_N, "LONG", "SHORT", "BYTE"), **_all(_T, "TIMESTAMP_NTZ")},
        "trino": {},
        "athena": {},
        "clickhouse": {
            **_all(_N, "INT8", "INT16", "INT32", "INT64", "INT128", "INT256", "UINT8",
                   "UINT16", "UINT32", "UINT64", "UINT128", "UINT256", "FLOAT32", "FLOAT64",
                   "DECIMAL32", "DECIMAL64", "DECIMAL128", "DECIMAL256"),
            **_all(_D, "DATE32"),
            **_all(_T, "DATETIME64"),
        },
    }
)  # fmt: skip

# ClickHouse wraps a type in Nullable(...) / LowCardinality(...); the inner type decides.
_WRAPPER = re.compile(r"^(?:NULLABLE|LOWCARDINALITY)\((.*)\)$")
_PARAMETERS = re.compile(r"\([^()]*\)")


def normalised(type_name: str) -> str:
    """`Nullable(Decimal(10, 2))` → `DECIMAL`; `timestamp(3) with time zone` → `TIMESTAMP WITH…`."""
    text = " ".join(type_name.upper().split())
    while (wrapped := _WRAPPER.match(text)) is not None:
        text = wrapped.group(1).strip()
    text = _PARAMETERS.sub("", text).removesuffix(" NOT NULL")
    return " ".join(text.split())


def warehouse_dimension_type(type_name: str, dialect: str) -> DimensionType:
    """The dimension type of a column whose warehouse type is `type_name` in `dialect`."""
    name = normalised(type_name)
    return BY_DIALECT.get(dialect, {}).get(name) or COMMON.get(name) or DimensionType.STRING
