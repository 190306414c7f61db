"""A dbt profile target: which warehouse a project runs on, read from profiles.yml."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from metricql.dialects import ADAPTERS
from metricql.errors import MetricQLError, ProjectError
from metricql.project.yaml_io import LineDict, read_yaml

_ENV_VAR = re.compile(
    r"\{\{\s*env_var\(\s*['\"]([^'\"]+)['\"]\s*(?:,\s*['\"]([^'\"]*)['\"]\s*)?\)"
    r"((?:\s*\|\s*\w+)*)\s*\}\}"
)
# Jinja filters dbt profiles apply to env_var() (`{{ env_var('PORT') | as_number }}`): how each
# turns the text into the value the adapter receives.
_FILTERS: Mapping[str, Callable[[str], Any]] = MappingProxyType(
    {
        "as_number": lambda text: float(text) if "." in text else int(text),
        "int": int,
        "float": float,
        "as_bool": lambda text: text.strip().lower() in ("true", "1", "yes", "on"),
        "as_text": str,
        "string": str,
        "as_native": lambda text: yaml.safe_load(text),
        "lower": str.lower,
        "upper": str.upper,
        "trim": str.strip,
    }
)


@dataclass(frozen=True, slots=True)
class ProfileTarget:
    """One output of a dbt profile: adapter `type` plus its settings (path, schema, host …)."""

    profile: str
    target: str
    type: str
    # repr=False: the settings hold passwords and tokens, and a repr ends up in logs.
    settings: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), repr=False)
    file: Path | None = None
    base_dir: Path | None = None  # relative DuckDB paths resolve here (the dbt project dir)

    @property
    def dialect(self) -> str:
        """sqlglot dialect of this adapter."""
        return ADAPTERS.get(self.type, self.type)

    @property
    def schema(self) -> str | None:
        """Default schema (dbt `schema`, or BigQuery `dataset`)."""
        value = self.settings.get("schema", self.settings.get("dataset"))
        return str(value) if value is not None else None

    @property
    def database(self) -> str | None:
        """Default database (dbt `database`/`dbname`, BigQuery `project`); DuckDB: file stem."""
        for key in ("database", "dbname", "project", "catalog"):
            if self.settings.get(key) is not None:
                return str(self.settings[key])
        path = self.duckdb_path
        if path is not None:
            return "memory" if path == ":memory:" else Path(path).stem
        return None

    @property
    def duckdb_path(self) -> str | None:
        """DuckDB database file (absolute, or `:memory:`); None for other adapters."""
        if self.type != "duckdb":
            return None
        raw = str(self.settings.get("path", ":memory:"))
        if raw == ":memory:" or raw.startswith("md:"):
            return raw
        path = Path(raw).expanduser()
        if not path.is_absolute() and self.base_dir is not None:
            path = self.base_dir / path
        return str(path)


def load_profile(
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
    """Resolve dbt's `{{ env_var('NAME', 'default') | filter }}` in profile values: a value that
    is one such template takes the filters' type; digits alone become an integer."""
    if not isinstance(value, str) or "env_var" not in value:
        return value
    whole = _ENV_VAR.fullmatch(value.strip())
    if whole is not None:
        return _filtered(whole)
    resolved = _ENV_VAR.sub(lambda m: str(_filtered(m)), value)
    return int(resolved) if resolved.isdigit() else resolved


def _filtered(match: re.Match[str]) -> Any:
    name, default, filters = match.group(1), match.group(2), match.group(3)
    if name in os.environ:
        text = os.environ[name]
    elif default is not None:
        text = default
    else:
        raise ProjectError(
            f"environment variable {name!r} used in profiles.yml is not set",
            hint=f"export {name}=… or give env_var a default",
        )
    names = [f.strip() for f in filters.split("|") if f.strip()]
    if not names:
        return int(text) if text.isdigit() else text
    value: Any = text
    for filter_name in names:
        convert = _FILTERS.get(filter_name)
        if convert is None:
            raise ProjectError(
                f"profiles.yml applies the Jinja filter {filter_name!r} to env_var({name!r}), "
                "which metricql does not know",
                hint=f"use one of: {', '.join(_FILTERS)}; or set the value without a filter",
            )
        try:
            value = convert(value if isinstance(value, str) else str(value))
        except (ValueError, yaml.YAMLError):
            raise ProjectError(
                f"the value of env_var({name!r}) in profiles.yml cannot be converted by "
                f"`| {filter_name}` (the value is not shown: it may be a secret)",
                hint=f"set {name} to a value {filter_name} accepts",
            ) from None
    return value


def _line(doc: Any, key: str) -> int | None:
    return doc.line_of(key) if isinstance(doc, LineDict) else None
