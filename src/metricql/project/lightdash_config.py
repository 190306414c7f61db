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

from metricql.errors import Issue, ProjectError, Where, did_you_mean
from metricql.project.schema import ModelSchema, ParameterSchema
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


def option_source_issues(
    parameters: Mapping[str, ParameterSchema], models: tuple[ModelSchema, ...]
) -> list[Issue]:
    """A warning for each parameter (lightdash.config.yml's, then each model's) whose
    `options_from_dimension` names a model or dimension the project does not have: Lightdash
    would offer no options, and nothing else would say why."""
    by_name = {m.name: m for m in models}
    found = [(name, spec, FILE) for name, spec in parameters.items()]
    for model in models:
        file = str(model.file) if model.file else model.name
        found += [(f"{model.name}.{n}", p, file) for n, p in model.meta.parameters.items()]
    out = []
    for name, spec, file in found:
        source = spec.options_from_dimension
        if source is None:
            continue
        target = by_name.get(source.model)
        if target is None:
            what = f"model {source.model!r}"
            hint = did_you_mean(source.model, by_name, otherwise="name a model of the project")
        elif not _has_dimension(target, source.dimension):
            what = f"dimension {source.dimension!r} of model {source.model!r}"
            hint = did_you_mean(
                source.dimension, _dimension_names(target), otherwise="name one of its dimensions"
            )
        else:
            continue
        message = f"parameter {name!r}: options_from_dimension names {what}, which does not exist"
        out.append(Issue("unknown_option_source", message, hint=hint, where=Where(file=file)))
    return out


def _dimension_names(model: ModelSchema) -> set[str]:
    names = set()
    for column in model.columns:
        names.add(column.name)
        names.update(column.meta.additional_dimensions)
        if column.meta.dimension is not None and column.meta.dimension.name:
            names.add(column.meta.dimension.name)
    return names


def _has_dimension(model: ModelSchema, name: str) -> bool:
    """`name` is a dimension of `model`, or a time interval of one (`<dimension>_<grain>`)."""
    names = _dimension_names(model)
    return name in names or any(name.startswith(f"{n}_") for n in names)
