"""Custom time granularities from `custom_granularities:` in lightdash.config.yml.

    custom_granularities:
      fiscal_quarter:
        label: Fiscal quarter
        sql: DATE_TRUNC('QUARTER', ${COLUMN} + INTERVAL '1 month')
        type: date            # date (default), timestamp or string

`${COLUMN}` stands for the time dimension the granularity is applied to. Only this section is
read here; the rest of the file belongs to whatever else reads it (parameters, spotlight).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from metricql.errors import ProjectError
from metricql.project.schema import CustomGranularitySchema
from metricql.project.yaml_io import LineDict, read_yaml

FILE = "lightdash.config.yml"
_NAME = re.compile(r"[a-z][a-z0-9_]*")
# Names that would shadow a standard interval child (`<base>_month`).
RESERVED = frozenset(
    {"raw", "millisecond", "second", "minute", "hour", "day", "week", "month", "quarter", "year"}
)


def read_custom_granularities(root: Path) -> dict[str, CustomGranularitySchema]:
    """The project's custom granularities by name (none without the file or section)."""
    path = root / FILE
    doc = read_yaml(path) if path.is_file() else None
    if not isinstance(doc, Mapping):
        return {}
    raw = doc.get("custom_granularities")
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise _error("`custom_granularities:` must be a mapping of names", path, doc, None)
    out = {}
    for name, spec in raw.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name) or name in RESERVED:
            raise _error(
                f"custom granularity name {name!r} must be lower_snake_case and not a "
                "standard interval",
                path,
                raw,
                name,
            )
        try:
            out[name] = CustomGranularitySchema.model_validate(spec or {})
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(map(str, first["loc"])) or "granularity"
            raise _error(
                f"custom granularity {name!r}: `{where}`: {first['msg']}", path, raw, name
            ) from None
    return out


def _error(message: str, path: Path, doc: object, key: object) -> ProjectError:
    line = doc.line_of(str(key)) if isinstance(doc, LineDict) and key is not None else None
    return ProjectError(
        message,
        hint="each entry needs `label:` and `sql:` (over ${COLUMN}); `type:` is date, "
        "timestamp or string",
        file=str(path),
        line=line,
        key="custom_granularities",
    )
