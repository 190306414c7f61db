"""Match YAML models to the model files dbt builds, and name their relations as dbt does.

Without a manifest, a YAML `models:` entry becomes an explore only when dbt would build a
relation for it: a .sql (or .py) file of that name exists under the model paths, it is enabled,
and it is not ephemeral. Its relation follows dbt's configuration (node_config.py) and naming
macros (naming.py).

A project with no model files at all is YAML written over existing tables (seeds, or tables
built elsewhere): dbt configures nothing there, so only the entry's own `config:` counts, and
its schema, database and alias name the table as written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from metricql.errors import Issue, Where
from metricql.project.naming import Naming, relation_of
from metricql.project.node_config import (
    Layer,
    Setting,
    merged_config,
    project_layers,
    sql_config,
)
from metricql.project.profile import ProfileTarget
from metricql.project.schema import ModelSchema

_MODEL_SUFFIXES = (".sql", ".py")
# YAML over existing tables: `config: {schema: x}` names schema x itself, not `<target>_x`.
AS_WRITTEN = Naming(
    rules={"generate_schema_name": "custom schema used as-is"},
    sources={"generate_schema_name": "YAML over existing tables: names as written"},
)


@dataclass(frozen=True, slots=True)
class ModelFile:
    """A model file dbt builds: its path and fully qualified name (project, folders, name)."""

    path: Path
    fqn: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DbtProject:
    """What naming a project's relations needs from dbt_project.yml, macros and the profile."""

    root: Path
    name: str
    models_config: Any  # the `models:` mapping of dbt_project.yml
    model_dirs: tuple[str, ...]
    naming: Naming
    target: ProfileTarget | None

    def shown(self, path: Path) -> str:
        """`path` relative to the project, as messages show it."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


def model_files(root: Path, project: str, dirs: Sequence[str]) -> dict[str, ModelFile]:
    """Every model file under `dirs` by model name (the first one, when dbt would refuse two)."""
    found: dict[str, ModelFile] = {}
    for d in dirs:
        base = root / d
        if not base.is_dir():
            continue
        for path in sorted(p for p in base.rglob("*") if p.suffix in _MODEL_SUFFIXES):
            folders = path.relative_to(base).parent.parts
            found.setdefault(path.stem, ModelFile(path, (project, *folders, path.stem)))
    return found


def dbt_models(
    project: DbtProject, models: Sequence[ModelSchema], issues: list[Issue]
) -> list[ModelSchema]:
    """`models` that dbt builds, each with the relation dbt names for it."""
    files = model_files(project.root, project.name, project.model_dirs)
    if not files:
        project = replace(project, models_config=None, naming=AS_WRITTEN)
    out = []
    for model in models:
        file = files.get(model.name)
        if file is None and files:
            issues.append(
                _not_built(
                    project,
                    model,
                    "model_without_sql",
                    f"model {model.name!r} has no {model.name}.sql under "
                    f"{', '.join(project.model_dirs)}: dbt builds no relation for it ('Did not "
                    "find matching node for patch')",
                )
            )
            continue
        config = _config(project, model, file, issues)
        skipped = _skipped(model, config)
        if skipped:
            issues.append(_not_built(project, model, *skipped))
            continue
        out.append(_named(project, model, config))
    return out


def _config(
    project: DbtProject, model: ModelSchema, file: ModelFile | None, issues: list[Issue]
) -> dict[str, Setting]:
    fqn = file.fqn if file else (project.name, model.name)
    layers = list(project_layers(project.models_config, fqn, "dbt_project.yml"))
    if model.config and model.file is not None:
        yml = project.shown(model.file)
        layers.append(Layer(f"config: of {yml}", yml, model.config))
    if file is not None and file.path.suffix == ".sql":
        shown = project.shown(file.path)
        text = file.path.read_text(encoding="utf-8", errors="replace")
        layers.append(
            Layer(f"config() in {shown}", shown, sql_config(file.path, text, shown, issues))
        )
    return merged_config(layers, issues)


def _skipped(model: ModelSchema, config: Mapping[str, Setting]) -> tuple[str, str] | None:
    """(issue code, why) when dbt builds no relation for the model."""
    enabled = config.get("enabled")
    if enabled is not None and enabled.value in (False, "false", "False"):
        return (
            "model_disabled",
            f"model {model.name!r} is disabled (enabled: false in {enabled.origin})",
        )
    materialized = config.get("materialized")
    if materialized is not None and str(materialized.value).lower() == "ephemeral":
        where = materialized.origin
        return "model_ephemeral", f"model {model.name!r} is ephemeral (in {where}): no relation"
    return None


def _named(project: DbtProject, model: ModelSchema, config: Mapping[str, Setting]) -> ModelSchema:
    if model.meta.sql_from:
        origin = f"meta.sql_from of model {model.name!r}"
        return model.model_copy(update={"relation_origin": origin})
    relation = relation_of(model.name, config, project.naming, project.target)
    return model.model_copy(
        update={
            "database": relation.database if relation.custom_database else None,
            "schema_": relation.schema,
            "alias": relation.identifier if relation.identifier != model.name else None,
            "relation_origin": relation.origin,
        }
    )


def _not_built(project: DbtProject, model: ModelSchema, code: str, why: str) -> Issue:
    return Issue(
        code,
        f"{why}, so it has no explore",
        hint="joins to it fail; remove its YAML entry, or enable and build it in dbt",
        where=Where(
            file=project.shown(model.file) if model.file else project.name,
            line=model.line,
            model=model.name,
        ),
    )
