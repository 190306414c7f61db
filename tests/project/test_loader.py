"""Loading dbt YAML: merging, profiles, and every malformed input as a ProjectError."""

from __future__ import annotations

from pathlib import Path

import pytest

import metricql as mq
from metricql.project.loader import load_project_schema
from tests.conftest import SAMPLE
from tests.helpers import make_project

ORDERS = """
version: 2
models:
  - name: orders
    meta:
      label: Old label
      primary_key: order_id
    config:
      meta:
        label: Orders
        joins: []
    columns:
      - name: order_id
        meta:
          dimension: {type: number}
        config:
          meta:
            dimension: {label: Order ID}
            metrics:
              order_count: {type: count}
"""


def test_meta_and_config_meta_deep_merge_with_config_winning(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"orders": ORDERS})
    schema = load_project_schema(root)
    (model,) = schema.models
    assert model.meta.label == "Orders"
    assert model.meta.primary_key == ("order_id",)
    column = model.columns[0]
    assert column.meta.dimension is not None
    assert (column.meta.dimension.type, column.meta.dimension.label) == ("number", "Order ID")
    assert set(column.meta.metrics) == {"order_count"}


def test_sample_project_profile_and_seeds() -> None:
    schema = load_project_schema(SAMPLE)
    assert schema.target is not None
    assert (schema.target.type, schema.target.schema) == ("duckdb", "main")
    assert schema.target.duckdb_path == str(SAMPLE / "jaffle_shop.duckdb")
    assert sorted(p.stem for p in schema.seed_paths) == [
        "customers",
        "order_items",
        "orders",
        "payments",
    ]


def test_profile_env_var_and_target_selection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profiles = """\
demo:
  target: dev
  outputs:
    dev: {type: duckdb, path: dev.duckdb, schema: main}
    prod:
      type: postgres
      host: "{{ env_var('PGHOST_TEST', 'localhost') }}"
      port: "{{ env_var('PGPORT_TEST') }}"
      schema: analytics
      dbname: shop
"""
    root = make_project(tmp_path, {"orders": ORDERS}, profiles=profiles)
    monkeypatch.setenv("PGPORT_TEST", "6543")
    target = load_project_schema(root, target="prod").target
    assert target is not None
    assert (target.type, target.settings["host"], target.settings["port"]) == (
        "postgres",
        "localhost",
        6543,
    )
    monkeypatch.delenv("PGPORT_TEST")
    with pytest.raises(mq.ProjectError, match="PGPORT_TEST"):
        load_project_schema(root, target="prod")
    with pytest.raises(mq.ProjectError, match="target 'nope' not found") as err:
        load_project_schema(root, target="nope")
    assert "dev, prod" in (err.value.hint or "")


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"bad": "models:\n  - name: x\n    meta: {label: [\n"})
    with pytest.raises(mq.ProjectError) as err:
        load_project_schema(root)
    assert err.value.context["file"].endswith("bad.yml")
    assert err.value.context["line"] >= 3
    assert "malformed YAML" in str(err.value)


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        {
            "a": """
            models:
              - name: a
                columns:
                  - name: x
                    meta:
                      metrics:
                        m: {type: sum, percentile: not-a-number}
        """,
            "b": """
            models:
              - name: b
                meta:
                  joins:
                    - join: a
                      relationship: lots-to-lots
                      sql_on: "1 = 1"
        """,
            "c": "models:\n  - name: c\n    meta: [1, 2]\n",
        },
    )
    with pytest.raises(mq.ProjectErrors) as err:
        load_project_schema(root)
    problems = err.value.errors
    files = sorted(Path(p.context["file"]).name for p in problems)
    assert files == ["a.yml", "b.yml", "c.yml"]
    by_file = {Path(p.context["file"]).name: p for p in problems}
    assert by_file["a.yml"].context["field"] == "x"
    assert "percentile" in by_file["a.yml"].context["key"]
    assert by_file["a.yml"].context["line"] == 8
    assert "relationship" in by_file["b.yml"].context["key"]
    assert "one-to-many" in (by_file["b.yml"].hint or "")
    assert err.value.to_dict()["code"] == "project_errors"


def test_duplicate_model_names(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"a": "models:\n  - name: m\n", "b": "models:\n  - name: m\n"})
    with pytest.raises(mq.ProjectError, match="defined twice"):
        load_project_schema(root)


def test_missing_project(tmp_path: Path) -> None:
    with pytest.raises(mq.ProjectError, match="dbt_project.yml not found"):
        load_project_schema(tmp_path)


def test_unsupported_adapter(tmp_path: Path) -> None:
    profiles = "demo:\n  target: dev\n  outputs:\n    dev: {type: oracle}\n"
    root = make_project(tmp_path, {"orders": ORDERS}, profiles=profiles)
    with pytest.raises(mq.ProjectError, match="'oracle'"):
        load_project_schema(root)


def test_unknown_meta_keys_are_kept_not_fatal(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        {
            "orders": """
        models:
          - name: orders
            meta:
              spotlight: {visibility: show}
              parameters: {region: {options: [EU]}}
            columns:
              - name: order_id
                meta:
                  dimension: {type: number, ai_hint: id, colors: {a: red}}
    """
        },
    )
    (model,) = load_project_schema(root).models
    assert model.meta.model_extra == {"spotlight": {"visibility": "show"}}
    assert model.meta.parameters["region"].options == ("EU",)  # read since issue 10
