"""One YAML properties file: its `models:` entries as ModelSchemas, problems and warnings.

`meta` and `config.meta` are deep-merged (config wins); dbt docs blocks are substituted into
descriptions; keys metricql does not know become warnings (project/keys.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from metricql.errors import Issue, MetricQLError, ProjectError
from metricql.project.docs import with_docs
from metricql.project.keys import column_key_warnings, model_key_warnings
from metricql.project.node_config import RELATION_KEYS
from metricql.project.schema import ColumnSchema, ModelSchema
from metricql.project.yaml_io import LineDict, deep_merge, read_yaml


@dataclass(frozen=True, slots=True)
class Reading:
    """What every file of one load shares: docs blocks, and where problems and warnings go."""

    docs: Mapping[str, str]
    problems: list[MetricQLError]
    issues: list[Issue]  # warnings
    root: Path
    seed_configs: dict[str, Mapping[str, Any]]  # `config:` of YAML `seeds:` entries, by name

    def shown(self, path: Path) -> str:
        """`path` relative to the project, as messages show it."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


def _merged_meta(entry: Mapping[str, Any]) -> dict[str, Any]:
    meta = entry.get("meta") or {}
    config = entry.get("config") or {}
    config_meta = config.get("meta") or {} if isinstance(config, Mapping) else {}
    if not isinstance(meta, Mapping) or not isinstance(config_meta, Mapping):
        return {"__invalid__": True}
    return deep_merge(meta, config_meta)


def models_in_file(path: Path, reading: Reading) -> Iterator[ModelSchema]:
    """The `models:` entries of one YAML file that validate."""
    problems = reading.problems
    try:
        doc = read_yaml(path)
    except ProjectError as err:
        problems.append(err)
        return
    if not isinstance(doc, Mapping):
        return
    _seed_configs(doc.get("seeds"), reading)
    if "models" not in doc:
        return  # sources, macros, semantic models …: not ours
    entries = doc["models"] or []
    if not isinstance(entries, list):
        problems.append(
            ProjectError(
                "`models:` must be a list",
                hint="write `models:` then `- name: …` items",
                file=str(path),
                line=_line(doc, "models"),
            )
        )
        return
    shown = reading.shown(path)
    for entry in entries:
        with_docs(entry, reading.docs, shown, reading.issues)
        model = _model(path, entry, reading, shown)
        if model is not None:
            yield model


def _seed_configs(entries: Any, reading: Reading) -> None:
    for entry in entries if isinstance(entries, list) else []:
        config = entry.get("config") if isinstance(entry, Mapping) else None
        if isinstance(config, Mapping) and isinstance(entry.get("name"), str):
            reading.seed_configs[entry["name"]] = config


def _model(path: Path, entry: Any, reading: Reading, shown: str) -> ModelSchema | None:
    problems = reading.problems
    if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
        problems.append(
            ProjectError(
                "each item of `models:` must be a mapping with a `name`",
                hint="add `name: <model name>` to the item",
                file=str(path),
                line=getattr(entry, "line", None),
            )
        )
        return None
    name = entry["name"]
    meta = _merged_meta(entry)
    before = len(problems)
    if "__invalid__" not in meta:
        reading.issues.extend(model_key_warnings(entry, meta, shown))
    columns = _columns(path, name, entry, reading, shown)
    if "__invalid__" in meta:
        problems.append(
            ProjectError(
                "`meta` and `config.meta` must be mappings",
                hint="indent the keys under meta:",
                file=str(path),
                line=_line(entry, "meta"),
                model=name,
            )
        )
        return None
    if columns is None:
        return None
    raw_config = entry.get("config")
    config: Mapping[str, Any] = raw_config if isinstance(raw_config, Mapping) else {}
    try:
        model = ModelSchema.model_validate(
            {
                "name": name,
                "description": entry.get("description"),
                "meta": meta,
                "columns": columns,
                "config": {k: config[k] for k in RELATION_KEYS if k in config},
                "file": path,
                "line": getattr(entry, "line", None),
            }
        )
    except ValidationError as err:
        problems.extend(_validation_problems(err, path, name, meta, prefix="meta"))
        return None
    # A broken column is left out of its model (its error kept); any other problem, the model.
    return model if all(p.context.get("field") for p in problems[before:]) else None


def _columns(
    path: Path, model: str, entry: Mapping[str, Any], reading: Reading, shown: str
) -> list[ColumnSchema] | None:
    raw_columns = entry.get("columns") or []
    if not isinstance(raw_columns, list):
        reading.problems.append(
            ProjectError(
                "`columns:` must be a list",
                hint="write `columns:` then `- name: …` items",
                file=str(path),
                line=_line(entry, "columns"),
                model=model,
            )
        )
        return None
    columns = (_column(path, model, raw, reading, shown) for raw in raw_columns)
    return [c for c in columns if c is not None]


def _column(path: Path, model: str, raw: Any, reading: Reading, shown: str) -> ColumnSchema | None:
    problems = reading.problems
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
        problems.append(
            ProjectError(
                "each item of `columns:` must be a mapping with a `name`",
                hint="add `name: <column>`",
                file=str(path),
                line=getattr(raw, "line", None),
                model=model,
            )
        )
        return None
    meta = _merged_meta(raw)
    if "__invalid__" in meta:
        problems.append(
            ProjectError(
                "column `meta` must be a mapping",
                hint="indent the keys under meta:",
                file=str(path),
                line=_line(raw, "meta"),
                model=model,
                field=raw["name"],
            )
        )
        return None
    reading.issues.extend(column_key_warnings(model, raw, meta, shown))
    try:
        return ColumnSchema.model_validate(
            {
                "name": raw["name"],
                "description": raw.get("description"),
                "data_type": raw.get("data_type"),
                "meta": meta,
                "line": getattr(raw, "line", None),
            }
        )
    except ValidationError as err:
        problems.extend(
            _validation_problems(err, path, model, meta, prefix="meta", column=raw["name"])
        )
        return None


def _validation_problems(
    err: ValidationError,
    path: Path,
    model: str,
    doc: Mapping[str, Any],
    *,
    prefix: str,
    column: str | None = None,
) -> list[ProjectError]:
    out = []
    for e in err.errors():
        loc = [str(p) for p in e["loc"]]
        if loc and loc[0] == "meta":
            loc = loc[1:]
        key = ".".join([prefix, *loc])
        where = f"column {column!r} of model {model!r}" if column else f"model {model!r}"
        out.append(
            ProjectError(
                f"{where}: `{key}`: {e['msg']} (got {_short(e.get('input'))})",
                hint=_hint_for(loc),
                file=str(path),
                line=_line_at(doc, loc),
                model=model,
                field=column,
                key=key,
            )
        )
    return out


def _hint_for(loc: list[str]) -> str:
    last = loc[-1] if loc else ""
    hints = {
        "type": "metric types: count, count_distinct, sum, average, min, max, percentile, "
        "median, number, string, date, timestamp, boolean, …",
        "relationship": "use one-to-one, one-to-many, many-to-one or many-to-many",
        "join": "each join needs `join: <model name>` and `sql_on: <condition>`",
        "sql_on": "each join needs `join: <model name>` and `sql_on: <condition>`",
    }
    return hints.get(last, "see the Lightdash YAML reference for this key")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _line(doc: Any, key: str) -> int | None:
    return doc.line_of(key) if isinstance(doc, LineDict) else None


def _line_at(doc: Any, loc: Sequence[str]) -> int | None:
    """Best line for a pydantic location inside a YAML document."""
    line = getattr(doc, "line", None)
    node = doc
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line = node.line_of(part) or line
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            line = getattr(node, "line", None) or line
        else:
            break
    return line
