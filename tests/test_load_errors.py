"""`load_project` raises ProjectErrors whatever went wrong and however many things did."""

from __future__ import annotations

from pathlib import Path

import pytest

import metricql as mq
from tests.helpers import make_project

GHOST_JOIN = """
models:
  - name: t
    meta:
      joins:
        - {join: ghost, sql_on: "1 = 1"}
    columns: [{name: x}]
"""
TWO_GHOSTS = (
    GHOST_JOIN
    + """
  - name: u
    meta:
      joins:
        - {join: phantom, sql_on: "1 = 1"}
    columns: [{name: x}]
"""
)


def _load(root: Path, models: str) -> mq.Project:
    return mq.load_project(make_project(root, {"models": models}), strict=True)


def test_one_build_problem_is_project_errors(tmp_path: Path) -> None:
    with pytest.raises(mq.ProjectErrors) as err:
        _load(tmp_path, GHOST_JOIN)
    (only,) = err.value.errors
    assert isinstance(only, mq.CompileError)
    assert 'cannot find table with name "ghost"' in only.message
    # One problem reads like that problem, not like a list of one.
    assert str(err.value) == str(only)
    assert err.value.hint == only.hint
    assert err.value.to_dict()["errors"] == [only.to_dict()]
    assert err.value.to_dict()["code"] == "project_errors"


def test_two_build_problems_are_project_errors(tmp_path: Path) -> None:
    with pytest.raises(mq.ProjectErrors) as err:
        _load(tmp_path, TWO_GHOSTS)
    assert sorted(e.context["explore"] for e in err.value.errors) == ["t", "u"]
    assert "2 problem(s)" in str(err.value)


def test_one_schema_problem_is_project_errors(tmp_path: Path) -> None:
    with pytest.raises(mq.ProjectErrors) as err:
        _load(tmp_path, "models:\n  - name: c\n    meta: [1, 2]\n")
    (only,) = err.value.errors
    assert isinstance(only, mq.ProjectError)
    assert not isinstance(only, mq.ProjectErrors)


def test_missing_project_is_project_errors(tmp_path: Path) -> None:
    with pytest.raises(mq.ProjectErrors, match="dbt_project.yml not found") as err:
        mq.load_project(tmp_path)
    assert len(err.value.errors) == 1


def test_manifest_problem_is_project_errors(tmp_path: Path) -> None:
    manifest = tmp_path / "target" / "manifest.json"
    manifest.parent.mkdir()
    manifest.write_text('{"metadata": {}, "nodes": []}')
    with pytest.raises(mq.ProjectErrors) as err:
        mq.load_project(manifest)
    assert len(err.value.errors) == 1
