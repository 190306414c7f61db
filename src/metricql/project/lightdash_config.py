"""`lightdash.config.yml` at the project root: the project's parameters (its custom
granularities are read by `project/granularities.py`).

Other sections (`spotlight`, `defaults`) only change how Lightdash presents things; they are
read as warnings-free no-ops, while an unknown top-level key is a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from metricql.errors import Issue, ProjectError, Where
from metricql.project.schema import ParameterSchema
from metricql.project.yaml_io import LineDict, read_yaml

FILE = "lightdash.config.yml"
PRESENTATION_ONLY = frozenset({"spotlight", "defaults"})  # Metrics Catalog, UI defaults
# Sections read elsewhere: custom_granularities by `project/granularities.py`.
READ = frozenset({"parameters", "custom_granularities"})


def read_parameters(root: Path, issues: list[Issue]) -> dict[str, ParameterSchema]:
    """The `parameters:` of lightdash.config.yml (none without the file)."""
    path = root / FILE
    if not path.is_file():
        return {}
    doc = read_yaml(path)
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        raise ProjectError(
            f"{FILE} must be a mapping", hint="write `parameters:` …", file=str(path)
        )
    for key in doc:
        if key not in READ and key not in PRESENTATION_ONLY:
            line = doc.line_of(key) if isinstance(doc, LineDict) else None
            issues.append(
                Issue(
                    "unknown_key",
                    f"unknown key `{key}` in {FILE} is ignored",
                    hint="keys metricql knows here: "
                    "parameters, custom_granularities, spotlight, defaults",
                    where=Where(file=FILE, line=line),
                )
            )
    return parameter_schemas(doc.get("parameters"), str(path))


def parameter_schemas(raw: Any, file: str) -> dict[str, ParameterSchema]:
    """Parameter definitions by name; a bad one is a ProjectError at its line."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ProjectError(
            "`parameters:` must be a mapping of names", hint="name: {label: …}", file=file
        )
    out = {}
    for name, spec in raw.items():
        line = raw.line_of(name) if isinstance(raw, LineDict) else None
        try:
            out[str(name)] = ParameterSchema.model_validate(spec or {})
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(map(str, first["loc"])) or "parameter"
            raise ProjectError(
                f"parameter {name!r}: `{where}`: {first['msg']}",
                hint="types: string, number, date; options is a list",
                file=file,
                line=line,
            ) from None
    return out
