"""dbt seeds: CSV files anywhere under the seed paths, and the `column_types` dbt loads them with.

`column_types` comes, as for models, from `seeds:` in dbt_project.yml by project and folder
(`+column_types`), then the seed's `config:` in a YAML `seeds:` entry (most specific wins).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from metricql.project.node_config import project_layers


def seed_files(root: Path, dirs: Sequence[str]) -> tuple[Path, ...]:
    """Every .csv under the seed paths, sub-folders included, in a stable order."""
    found = {p for d in dirs if (root / d).is_dir() for p in (root / d).rglob("*.csv")}
    return tuple(sorted(found))


def seed_column_types(
    root: Path,
    project: str,
    dirs: Sequence[str],
    seeds_config: Any,
    from_yaml: Mapping[str, Mapping[str, Any]],
) -> dict[str, dict[str, str]]:
    """Seed file stem → {column: warehouse type} for the seeds that set `column_types`.

    `seeds_config` is `seeds:` of dbt_project.yml; `from_yaml` each YAML seed's `config:`.
    """
    out: dict[str, dict[str, str]] = {}
    for d in dirs:
        base = root / d
        for path in seed_files(root, [d]):
            fqn = (project, *path.relative_to(base).parent.parts, path.stem)
            types: dict[str, str] = {}
            for layer in project_layers(seeds_config, fqn, "dbt_project.yml"):
                types.update(_types(layer.values))
            types.update(_types(from_yaml.get(path.stem, {})))
            if types:
                out[path.stem] = types
    return out


def _types(layer: Mapping[str, Any]) -> dict[str, str]:
    value = layer.get("column_types")
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items() if isinstance(v, (str, int))}
