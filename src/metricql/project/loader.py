"""Find and read a dbt project: dbt_project.yml, profiles.yml, models/**/*.yml, model files.

All problems of one load are collected and raised together as `ProjectErrors`; what metricql
reads but cannot apply exactly (Jinja, unknown keys, custom naming macros) becomes a warning on
the ProjectSchema.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from metricql.dialects import ADAPTERS
from metricql.errors import Issue, MetricQLError, ProjectError, Where, raise_all
from metricql.project.column_types import catalog_types, with_column_types
from metricql.project.dbt_models import DbtProject, dbt_models
from metricql.project.docs import read_docs
from metricql.project.granularities import read_custom_granularities
from metricql.project.lightdash_config import option_source_issues, read_parameters
from metricql.project.manifest import manifest_schema
from metricql.project.naming import naming_rules
from metricql.project.profile import ProfileTarget, load_profile
from metricql.project.schema import ModelSchema, ProjectSchema
from metricql.project.seeds import seed_column_types, seed_files
from metricql.project.yaml_io import read_yaml
from metricql.project.yaml_models import Reading, models_in_file


def load_project_schema(
    path: str | Path,
    *,
    target: str | None = None,
    source_dialect: str | None = None,
    strict: bool = True,
) -> ProjectSchema:
    """Read the dbt project at `path` into a ProjectSchema.

    `path` is a project folder (or its dbt_project.yml), or a dbt `manifest.json`. A folder
    whose `target/manifest.json` exists is read from the manifest, which carries the relation
    names and column types dbt resolved; profiles, seeds and vars still come from the folder.
    `source_dialect` is the dialect YAML SQL is written in (default: the profile target's).
    `strict=False` keeps the problems of single models and fields as `model_errors` (those
    models or fields are left out) and raises only what concerns the whole project.
    """
    given = Path(path)
    schema = _schema(given, target, strict)
    issues: list[Issue] = []
    parameters = read_parameters(schema.root, issues)
    issues += option_source_issues(parameters, schema.models)
    if parameters or issues:
        schema = schema.model_copy(
            update={"parameters": parameters, "issues": (*schema.issues, *issues)}
        )
    if given.suffix != ".json" and (grains := read_custom_granularities(schema.root)):
        schema = schema.model_copy(update={"custom_granularities": grains})
    catalog = (given.parent if given.suffix == ".json" else schema.root / "target") / "catalog.json"
    if catalog.is_file():
        schema = with_column_types(schema, catalog_types(catalog))
    return _with_source_dialect(schema, source_dialect)


def _with_source_dialect(schema: ProjectSchema, dialect: str | None) -> ProjectSchema:
    if dialect is not None:
        if dialect not in ADAPTERS.values():
            raise ProjectError(
                f"unknown source dialect {dialect!r}",
                hint=f"choose one of: {', '.join(ADAPTERS.values())}",
            )
        return schema.model_copy(update={"source_dialect": dialect})
    if schema.target is not None or schema.source_dialect is not None:
        return schema
    assumed = Issue(
        "source_dialect_assumed",
        "no profiles.yml target, so YAML SQL is read as DuckDB SQL; if it is written for "
        "another warehouse, pass source_dialect= (CLI: --source-dialect)",
        hint="add profiles.yml, or pass the dialect of your warehouse",
        where=Where(file="dbt_project.yml"),
    )
    return schema.model_copy(update={"issues": (*schema.issues, assumed)})


def profile_of(path: str | Path, target: str | None) -> tuple[Path, ProfileTarget | None]:
    """The project folder at `path` and its profile target, as a load would resolve them
    (raises what such a load would raise first)."""
    root = _project_root(Path(path))
    read = read_yaml(root / "dbt_project.yml")
    config: Mapping[str, Any] = read if isinstance(read, dict) else {}
    name = str(config.get("name") or root.name)
    problems: list[MetricQLError] = []
    profile = load_profile(root, str(config.get("profile") or name), target, problems)
    raise_all(problems)
    return root, profile


def _schema(given: Path, target: str | None, strict: bool) -> ProjectSchema:
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
    profile = load_profile(root, str(config.get("profile") or name), target, problems)
    manifest = root / "target" / "manifest.json"
    if manifest.is_file() and not problems:
        return manifest_schema(
            manifest,
            root=root,
            target=profile,
            name=name,
            seed_paths=seed_files(root, _paths(config, "seed-paths", ["seeds"])),
            week_start=_week_start(config, project_file),
        ).model_copy(update={"timezone_buckets": _timezone_buckets(config, project_file)})
    reading = Reading(
        docs=read_docs(root, _docs_dirs(config)),
        problems=problems,
        issues=[],
        root=root,
        seed_configs={},
    )
    models = _yaml_models(root, config, reading)
    scoped = [] if strict else [p for p in problems if p.context.get("model")]
    raise_all([p for p in problems if p not in scoped])
    dbt = _dbt_project(root, name, config, profile, reading.issues)
    built = dbt_models(dbt, models, reading.issues)
    seed_dirs = _paths(config, "seed-paths", ["seeds"])
    return ProjectSchema(
        name=name,
        root=root,
        models=tuple(built),
        target=profile,
        seed_paths=seed_files(root, seed_dirs),
        seed_column_types=seed_column_types(
            root, name, seed_dirs, config.get("seeds"), reading.seed_configs
        ),
        week_start=_week_start(config, project_file),
        timezone_buckets=_timezone_buckets(config, project_file),
        issues=tuple(reading.issues),
        model_errors=tuple(scoped),
        source_dialect=_source_dialect(config, project_file),
    )


def _yaml_models(root: Path, config: Mapping[str, Any], reading: Reading) -> list[ModelSchema]:
    """Every valid `models:` entry of the properties files, each name once."""
    models: list[ModelSchema] = []
    seen: dict[str, Path | None] = {}
    dirs = _paths(config, "model-paths", ["models"]) + _paths(config, "seed-paths", ["seeds"])
    for yml in _yaml_files(root, dirs):
        for model in models_in_file(yml, reading):
            if model.name in seen:
                reading.problems.append(
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
    return models


def _dbt_project(
    root: Path,
    name: str,
    config: Mapping[str, Any],
    target: ProfileTarget | None,
    issues: list[Issue],
) -> DbtProject:
    return DbtProject(
        root=root,
        name=name,
        models_config=config.get("models"),
        model_dirs=tuple(_paths(config, "model-paths", ["models"])),
        naming=naming_rules(root, _paths(config, "macro-paths", ["macros"]), issues),
        target=target,
    )


def _docs_dirs(config: Mapping[str, Any]) -> list[str]:
    """dbt's docs-paths; by default every resource path."""
    keys = ("model-paths", "seed-paths", "macro-paths", "analysis-paths", "snapshot-paths")
    default = [d for key in keys for d in _paths(config, key, [])] or ["models"]
    return _paths(config, "docs-paths", default)


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


def _timezone_buckets(config: Mapping[str, Any], file: Path) -> bool:
    """`vars: {metricql: {timezone_buckets: true}}`: truncate timestamps in the query's zone."""
    variables = config.get("vars") or {}
    settings = variables.get("metricql") if isinstance(variables, Mapping) else None
    raw = settings.get("timezone_buckets", False) if isinstance(settings, Mapping) else False
    if not isinstance(raw, bool):
        raise ProjectError(
            f"vars.metricql.timezone_buckets must be true or false, got {raw!r}",
            hint="e.g. timezone_buckets: true",
            file=str(file),
            key="vars.metricql.timezone_buckets",
        )
    return raw


def _source_dialect(config: Mapping[str, Any], file: Path) -> str | None:
    """`vars: {metricql: {source_dialect: bigquery}}`: the dialect the YAML SQL is written in
    when it is not the target's (a BigQuery project tried out on a DuckDB target)."""
    variables = config.get("vars") or {}
    settings = variables.get("metricql") if isinstance(variables, Mapping) else None
    raw = settings.get("source_dialect") if isinstance(settings, Mapping) else None
    if raw is None:
        return None
    if raw not in ADAPTERS.values():
        raise ProjectError(
            f"vars.metricql.source_dialect must be a dialect, got {raw!r}",
            hint=f"choose one of: {', '.join(ADAPTERS.values())}",
            file=str(file),
            key="vars.metricql.source_dialect",
        )
    return str(raw)


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


def _yaml_files(root: Path, dirs: Sequence[str]) -> Iterator[Path]:
    seen: set[Path] = set()
    inside = root.resolve()
    for d in dirs:
        base = root / d
        if not base.resolve().is_relative_to(inside):
            raise ProjectError(
                f"model-paths entry {d!r} points outside the project",
                hint="list folders inside the project, e.g. model-paths: [models]",
                file=str(root / "dbt_project.yml"),
            )
        if base.is_dir():
            for path in sorted(p for p in base.rglob("*") if p.suffix in (".yml", ".yaml")):
                if path not in seen:
                    seen.add(path)
                    yield path
