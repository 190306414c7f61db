"""Relations named as dbt names them, without a manifest: checked against real `dbt parse` output.

The fixture project (tests/fixtures/dbt_naming) sets +schema/+database/+alias by folder, calls
config() in .sql files, has disabled and ephemeral models and overrides generate_schema_name;
oracle/*.json are the manifests dbt 1.10 made of it (regen_manifest.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import metricql as mq
from metricql.cli import main
from metricql.errors import Issue
from metricql.project.node_config import Layer, merged_config, project_layers, sql_config

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "dbt_naming"
# oracle → (keeps macros/, adapter of the profile dbt parsed with)
ORACLES = {
    "manifest.json": (True, "postgres"),
    "manifest_default_naming.json": (False, "postgres"),
    "manifest_duckdb.json": (True, "duckdb"),
}
DUCKDB_PROFILE = """\
shop:
  target: dev
  outputs:
    dev: {type: duckdb, path: warehouse.duckdb, schema: analytics}
"""


def _copy(
    tmp_path: Path, *, macros: bool = True, manifest: str | None = None, adapter: str = "postgres"
) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("oracle", "__pycache__"))
    if not macros:
        shutil.rmtree(root / "macros")
    if adapter == "duckdb":
        (root / "profiles.yml").write_text(DUCKDB_PROFILE)
    if manifest is not None:
        (root / "target").mkdir()
        shutil.copy(FIXTURE / "oracle" / manifest, root / "target" / "manifest.json")
    return root


def _oracle(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURE / "oracle" / name).read_text())
    return doc


@pytest.mark.parametrize("oracle", ORACLES)
def test_every_relation_equals_dbt_parse(tmp_path: Path, oracle: str) -> None:
    macros, adapter = ORACLES[oracle]
    project = mq.load_project(_copy(tmp_path, macros=macros, adapter=adapter))
    nodes = _oracle(oracle)["nodes"].values()
    built = {n["name"]: _without_own_duckdb_catalog(n) for n in nodes if n["relation_name"]}
    got = {name: sql for name, (sql, _) in project.relations().items()}
    assert got == built
    assert len(built) == 7  # every model but the ephemeral two


def _without_own_duckdb_catalog(node: dict[str, Any]) -> str:
    """DuckDB SQL leaves out the catalog the connection opened (the profile file's stem)."""
    name: str = node["relation_name"]
    own = '"warehouse".'
    return name.removeprefix(own) if node["database"] == "warehouse" else name


@pytest.mark.parametrize("oracle", ORACLES)
def test_no_explore_where_dbt_builds_no_relation(tmp_path: Path, oracle: str) -> None:
    doc = _oracle(oracle)
    macros, adapter = ORACLES[oracle]
    project = mq.load_project(_copy(tmp_path, macros=macros, adapter=adapter))
    ephemeral = {n["name"] for n in doc["nodes"].values() if n["relation_name"] is None}
    disabled = {n["name"] for versions in doc["disabled"].values() for n in versions}
    assert ephemeral == {"int_order_totals", "order_facts"}
    assert disabled == {"dropped", "retired", "yaml_disabled"}
    assert not (ephemeral | disabled | {"ghost"}) & set(project.explores)
    warnings = "\n".join(project.validate())
    for name in ephemeral:
        assert f"model {name!r} is ephemeral" in warnings
    for name in disabled:
        assert f"model {name!r} is disabled" in warnings
    assert "model 'ghost' has no ghost.sql" in warnings


def _queries(project: mq.Project) -> list[mq.MetricQuery]:
    out = []
    for name, explore in sorted(project.explores.items()):
        dims = [i for i, d in explore.dimensions.items() if d.table == name][:1]
        metrics = list(explore.metrics)[:2]
        out.append(mq.MetricQuery(explore_name=name, dimensions=dims, metrics=metrics))
    return out


@pytest.mark.parametrize("oracle", ORACLES)
def test_without_its_manifest_the_project_compiles_to_the_same_sql(
    tmp_path: Path, oracle: str
) -> None:
    macros, adapter = ORACLES[oracle]
    bare = mq.load_project(_copy(tmp_path / "bare", macros=macros, adapter=adapter))
    parsed = mq.load_project(
        _copy(tmp_path / "parsed", macros=macros, manifest=oracle, adapter=adapter)
    )
    assert sorted(bare.explores) == sorted(parsed.explores)
    queries = _queries(bare)
    assert len(queries) == 7
    assert any(q.metrics for q in queries) and any(q.dimensions for q in queries)
    for query in queries:
        assert bare.compile(query).sql == parsed.compile(query).sql, query.explore_name
    joined = mq.MetricQuery(
        explore_name="orders", dimensions=["customers_country"], metrics=["orders_revenue"]
    )
    sql = bare.compile(joined).sql
    assert sql == parsed.compile(joined).sql
    assert '"crm_db"."from_sql"."dim_customers"' in sql if macros else "analytics_from" in sql


def test_validate_shows_each_relation_and_where_its_name_came_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(_copy(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert (
        'stg_orders     reads "shop"."staging"."orders_v2"\n'
        "                 (database 'shop' from target 'dev'; schema 'staging' from "
        "dbt_project.yml models: shop.staging, by custom schema used as-is "
        "(macros/generate_schema_name.sql); alias 'orders_v2' from config() in "
        "models/staging/stg_orders.sql)\n"
    ) in out
    assert "schema 'from_sql' from config() in models/marts/customers.sql" in out
    assert "alias 'dim_customers' from config: of models/marts/marts.yml" in out


def test_an_unrecognised_naming_macro_is_a_warning_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy(tmp_path)
    (root / "macros" / "naming.sql").write_text(
        "{% macro generate_alias_name(custom_alias_name=none, node=none) -%}\n"
        "  {{ node.name | upper }}_{{ target.name }}\n"
        "{%- endmacro %}\n"
    )
    assert main(["validate", str(root)]) == 0
    err = capsys.readouterr().err
    assert (
        "warning: macros/naming.sql: macro generate_alias_name is a custom override metricql "
        "cannot apply without running Jinja, so relation names may be wrong; run `dbt parse`"
    ) in err


def test_generate_schema_name_for_env_uses_custom_schemas_in_prod_only(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "macros" / "generate_schema_name.sql").write_text(
        "{% macro generate_schema_name(custom_schema_name, node) %}\n"
        "    {{ generate_schema_name_for_env(custom_schema_name, node) }}\n"
        "{% endmacro %}\n"
    )
    profiles = (root / "profiles.yml").read_text()
    (root / "profiles.yml").write_text(
        profiles.replace("    dev:", "    prod:").replace("target: dev", "target: prod")
    )
    assert mq.load_project(root).relations()["orders"][0] == '"shop"."marts"."orders"'
    (root / "profiles.yml").write_text(profiles)
    assert mq.load_project(root).relations()["orders"][0] == '"shop"."analytics"."orders"'


CONFIG_CALLS = [
    ("{{ config(schema='a', alias=\"b\") }}", {"schema": "a", "alias": "b"}, []),
    (
        "{{\n  config(\n    enabled = false,\n    materialized='table',\n  )\n}}",
        {"enabled": False, "materialized": "table"},
        [],
    ),
    ("{# {{ config(schema='commented') }} #}\n{{ config(alias='x') }}", {"alias": "x"}, []),
    (
        "{{ config(post_hook=\"grant select on {{ this }} to r\", schema='s') }}",
        {"schema": "s"},
        [],
    ),
    (
        "{{ config(schema=var('s'), alias='ok') }}",
        {"alias": "ok"},
        ["m.sql: config(schema=var('s')) is not a literal"],
    ),
    (
        "{{ config(enabled=target.name == 'prod') }}",
        {},
        ["m.sql: config(enabled=target.name == 'prod') is not a literal"],
    ),
    ("{{ config(schema='a') }} {{ config(schema='b') }}", {"schema": "b"}, []),
    ("{{ config(schema='a'", {}, ["m.sql: a config( call is not closed"]),
]


@pytest.mark.parametrize(("sql", "want", "warns"), CONFIG_CALLS)
def test_config_calls_are_read_without_jinja(
    sql: str, want: dict[str, Any], warns: list[str]
) -> None:
    issues: list[Issue] = []
    assert sql_config(Path("m.sql"), sql, "m.sql", issues) == want
    assert len(issues) == len(warns)
    for got, expected in zip(issues, warns, strict=True):
        assert str(got).startswith(expected)
        assert (got.code, got.where.file) == ("jinja_not_run", "m.sql")
        assert got.hint and "dbt parse" in got.hint


def test_project_config_most_specific_level_wins_and_plain_keys_count() -> None:
    models = {
        "+schema": "everywhere",
        "shop": {
            "materialized": "table",  # a plain key whose value is not a mapping is a config
            "marts": {"+schema": "marts", "schema": {"+alias": "not a config: a folder"}},
            "other": {"+enabled": False},
        },
    }
    layers = list(project_layers(models, ("shop", "marts", "orders"), "dbt_project.yml"))
    issues: list[Issue] = []
    config = merged_config(layers, issues)
    assert {k: (s.value, s.origin) for k, s in config.items()} == {
        "schema": ("marts", "dbt_project.yml models: shop.marts"),
        "materialized": ("table", "dbt_project.yml models: shop"),
    }
    jinja = Layer("dbt_project.yml models: shop", "dbt_project.yml", {"schema": "{{ var('s') }}"})
    assert merged_config([jinja], issues) == {}
    assert [str(i) for i in issues] == [
        "dbt_project.yml: `schema: {{ var('s') }}` in dbt_project.yml models: shop is Jinja: "
        "metricql does not run Jinja, so it is ignored"
    ]


def test_yaml_over_existing_tables_names_them_as_written(tmp_path: Path) -> None:
    """No model files: dbt_project.yml's models: config does not apply, YAML config is literal."""
    root = _copy(tmp_path)
    for sql in root.rglob("*.sql"):
        if "models" in sql.parts:
            sql.unlink()
    relations = mq.load_project(root).relations()
    assert relations["orders"][0] == '"shop"."analytics"."orders"'  # +schema: marts ignored
    assert relations["customers"][0] == '"shop"."from_yaml"."dim_customers"'
    assert "retired" in relations and "yaml_disabled" not in relations  # YAML enabled: false


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="{}()[]'\"=,:#%-\\ \n\x00abconfigschema_1", max_size=200)
    | st.builds(lambda n: "{{ config(schema=" + "[" * n + "]" * n + ") }}", st.integers(0, 5000))
)
def test_reading_config_calls_never_raises(text: str) -> None:
    issues: list[Issue] = []
    config = sql_config(Path("m.sql"), "{{ config(" + text, "m.sql", issues)
    assert set(config) <= {"enabled", "materialized", "database", "schema", "alias"}
    assert all(i.code == "jinja_not_run" for i in issues)
