"""Small on-disk dbt projects for loader and builder tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from metricql import load_project
from metricql.errors import MetricQLError, ProjectErrors

PROFILES = """\
demo:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: demo.duckdb
      schema: main
"""


def make_project(root: Path, models: dict[str, str], *, profiles: str | None = PROFILES) -> Path:
    """Write dbt_project.yml, profiles.yml and models/<name>.yml files; returns the folder."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text("name: demo\nprofile: demo\nmodel-paths: [models]\n")
    if profiles is not None:
        (root / "profiles.yml").write_text(profiles)
    (root / "models").mkdir(exist_ok=True)
    for name, text in models.items():
        (root / "models" / f"{name}.yml").write_text(textwrap.dedent(text))
    return root


def load_problem(root: Path) -> MetricQLError:
    """The single problem `load_project(root, strict=True)` raises (as ProjectErrors)."""
    with pytest.raises(ProjectErrors) as err:
        load_project(root, strict=True)
    (only,) = err.value.errors
    return only
