"""Find and read a dbt project: dbt_project.yml, models/**/*.yml, profiles.yml.

All problems of one load are collected and raised together as `ProjectErrors`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from metricql.dialects import ADAPTERS
from metricql.errors import MetricQLError, ProjectError, raise_all
from metricql.project.manifest import manifest_schema
from metricql.project.profile import ProfileTarget
from metricql.project.schema import ColumnSchema, ModelSchema, ProjectSchema
from metricql.project.yaml_io import LineDict, deep_merge, read_yaml

_ENV_VAR = re.compile(
    r"\{\{\s*env_var\(\s*['\"]([^'\"]+)['\"]\s*(?:,\s*['\"]([^'\"]*)['\"]\s*)?\)\s*\}\}"
)


def load_project_schema(path: str | Path, *, target: str | None = None) -> ProjectSchema:
    """Read the dbt project at `path` into a ProjectSchema.

    `path` is a project folder (or its dbt_project.yml), or a dbt `manifest.json`. A folder
    whose `target/manifest.json` exists is read from the manifest, which carries the relation
    names and column types dbt resolved; profiles, seeds and vars still come from the folder.
    """
    given = Path(path)
    if given.suffix == ".json":
        return manifest_schema(given)
    root = _project_root(given)
    project_file = root / "dbt_project.yml"
    config = read_yaml(project_file)
    if not isinstance(config, dict):
        raise ProjectError(
            "dbt_project.yml must be a mapping",
            hint="see dbt's dbt_project.yml reference",
            file=str(project_file),
        )
    name = str(config.get("name") or root.name)
    problems: list[MetricQLError] = []
    profile = _load_profile(root, str(config.get("profile") or name), target, problems)
    manifest = root / "target" / "manifest.json"
    if manifest.is_file() and not problems:
        return manifest_schema(
            manifest,
            root=root,
            target=profile,
            name=name,
            seed_paths=_seeds(root, config),
            week_start=_week_start(config, project_file),
        )
    models: list[ModelSchema] = []
    seen: dict[str, Path | None] = {}
    for yml in _model_files(root, _paths(config, "model-paths", ["models"])):
        for model in _models_in_file(yml, problems):
            if model.name in seen:
                problems.append(
                    ProjectError(
                        f"model {model.name!r} is defined twice (also in {seen[model.name]})",
                        hint="keep one definition per model name",
                        file=str(yml),
                        line=model.line,
                        model=model.name,
                    )
                )
                continue
            seen[model.name] = model.file
            models.append(model)
    raise_all(problems)
    seeds = _seeds(root, config)
    return ProjectSchema(
        name=name,
        root=root,
        models=tuple(models),
        target=profile,
        seed_paths=seeds,
        week_start=_week_start(config, project_file),
    )


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _week_start(config: Mapping[str, Any], file: Path) -> int | None:
    """`vars: {metricql: {week_start: monday}}` (0=Monday … 6=Sunday); None = warehouse default."""
    variables = config.get("vars") or {}
    settings = variables.get("metricql") if isinstance(variables, Mapping) else None
    raw = settings.get("week_start") if isinstance(settings, Mapping) else None
    if raw is None:
        return None
    if isinstance(raw, str) and raw.lower() in _WEEKDAYS:
        return _WEEKDAYS.index(raw.lower())
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= 6:
        return raw
    raise ProjectError(
        f"vars.metricql.week_start must be a weekday name or 0-6, got {raw!r}",
        hint="e.g. week_start: sunday",
        file=str(file),
        key="vars.metricql.week_start",
    )


def _seeds(root: Path, config: Mapping[str, Any]) -> tuple[Path, ...]:
    dirs = _paths(config, "seed-paths", ["seeds"])
    return tuple(sorted(p for d in dirs for p in (root / d).glob("*.csv")))


def _project_root(path: Path) -> Path:
    if path.is_file() and path.name == "dbt_project.yml":
        return path.parent.resolve()
    if (path / "dbt_project.yml").is_file():
        return path.resolve()
    raise ProjectError(
        f"no dbt project at {path}: dbt_project.yml not found",
        hint="pass the folder that contains dbt_project.yml",
        file=str(path),
    )


def _paths(config: Mapping[str, Any], key: str, default: list[str]) -> list[str]:
    value = config.get(key, default)
    return [str(v) for v in value] if isinstance(value, list) else default


def _model_files(root: Path, dirs: Sequence[str]) -> Iterator[Path]:
    for d in dirs:
        base = root / d
        if base.is_dir():
            yield from sorted(p for p in base.rglob("*") if p.suffix in (".yml", ".yaml"))


def _merged_meta(entry: Mapping[str, Any]) -> dict[str, Any]:
    meta = entry.get("meta") or {}
    config = entry.get("config") or {}
    config_meta = config.get("meta") or {} if isinstance(config, Mapping) else {}
    if not isinstance(meta, Mapping) or not isinstance(config_meta, Mapping):
        return {"__invalid__": True}
    return deep_merge(meta, config_meta)


def _models_in_file(path: Path, problems: list[MetricQLError]) -> Iterator[ModelSchema]:
    try:
        doc = read_yaml(path)
    except ProjectError as err:
        problems.append(err)
        return
    if not isinstance(doc, Mapping) or "models" not in doc:
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
    for entry in entries:
        model = _model(path, entry, problems)
        if model is not None:
            yield model


def _model(path: Path, entry: Any, problems: list[MetricQLError]) -> ModelSchema | None:
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
    raw_config = entry.get("config")
    config: Mapping[str, Any] = raw_config if isinstance(raw_config, Mapping) else {}
    raw_columns = entry.get("columns") or []
    if not isinstance(raw_columns, list):
        problems.append(
            ProjectError(
                "`columns:` must be a list",
                hint="write `columns:` then `- name: …` items",
                file=str(path),
                line=_line(entry, "columns"),
                model=name,
            )
        )
        return None
    columns: list[ColumnSchema] = []
    before = len(problems)
    for raw in raw_columns:
        column = _column(path, name, raw, problems)
        if column is not None:
            columns.append(column)
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
    try:
        model = ModelSchema.model_validate(
            {
                "name": name,
                "description": entry.get("description"),
                "meta": meta,
                "columns": columns,
                "database": config.get("database"),
                "schema": config.get("schema"),
                "alias": config.get("alias"),
                "file": path,
                "line": getattr(entry, "line", None),
            }
        )
    except ValidationError as err:
        problems.extend(_validation_problems(err, path, name, meta, prefix="meta"))
        return None
    return model if len(problems) == before else None


def _column(path: Path, model: str, raw: Any, problems: list[MetricQLError]) -> ColumnSchema | None:
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


def _load_profile(
    root: Path, profile_name: str, target: str | None, problems: list[MetricQLError]
) -> ProfileTarget | None:
    candidates = [root / "profiles.yml"]
    if os.environ.get("DBT_PROFILES_DIR"):
        candidates.insert(0, Path(os.environ["DBT_PROFILES_DIR"]) / "profiles.yml")
    candidates.append(Path.home() / ".dbt" / "profiles.yml")
    for file in candidates:
        if file.is_file():
            try:
                return _profile_target(file, root, profile_name, target)
            except ProjectError as err:
                problems.append(err)
                return None
    if target is not None:
        problems.append(
            ProjectError(
                f"target {target!r} asked for, but no profiles.yml was found",
                hint="put profiles.yml in the project folder, ~/.dbt/ or $DBT_PROFILES_DIR",
                file=str(root),
            )
        )
    return None


def _profile_target(file: Path, root: Path, profile_name: str, target: str | None) -> ProfileTarget:
    doc = read_yaml(file)
    profile = doc.get(profile_name) if isinstance(doc, Mapping) else None
    if not isinstance(profile, Mapping):
        raise ProjectError(
            f"profile {profile_name!r} not found in profiles.yml",
            hint=f"profiles there: {', '.join(sorted(doc or {})) or 'none'}",
            file=str(file),
        )
    outputs = profile.get("outputs") or {}
    chosen = _env(target or profile.get("target") or "dev")
    settings = outputs.get(chosen) if isinstance(outputs, Mapping) else None
    if not isinstance(settings, Mapping):
        raise ProjectError(
            f"target {chosen!r} not found in profile {profile_name!r}",
            hint=f"targets there: {', '.join(sorted(outputs)) or 'none'}",
            file=str(file),
            line=_line(profile, "outputs"),
        )
    resolved = {k: _env(v) for k, v in settings.items()}
    kind = str(resolved.get("type", ""))
    if kind not in ADAPTERS:
        raise ProjectError(
            f"dbt adapter {kind!r} of target {chosen!r} is not supported",
            hint=f"supported: {', '.join(ADAPTERS)}",
            file=str(file),
            line=_line(settings, "type"),
        )
    return ProfileTarget(
        profile=profile_name,
        target=str(chosen),
        type=kind,
        settings=resolved,
        file=file,
        base_dir=root,
    )


def _env(value: Any) -> Any:
    """Resolve dbt's `{{ env_var('NAME', 'default') }}` in profile values."""
    if not isinstance(value, str) or "env_var" not in value:
        return value

    def replace(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ProjectError(
            f"environment variable {name!r} used in profiles.yml is not set",
            hint=f"export {name}=… or give env_var a default",
        )

    resolved = _ENV_VAR.sub(replace, value)
    if resolved.isdigit():
        return int(resolved)
    return resolved
