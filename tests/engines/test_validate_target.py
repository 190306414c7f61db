"""`metricql validate --target` on PostgreSQL: every relation the explores read is checked on
the warehouse, and each missing one is reported with the name metricql expected.

The project is the dbt-naming fixture (folder +schema/+database/+alias, config() calls, the
generate_schema_name override); the names to expect are the `relation_name`s of the manifest
real `dbt parse` made of it (oracle/manifest.json), not metricql's own.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import metricql as mq
from metricql.cli import main
from tests.engines.conftest import SERVER_USER

pytestmark = pytest.mark.engines

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "dbt_naming"
SHOP = "shop_validate"  # the database the profile's env_var() points at


def _dbt_names() -> dict[str, str]:
    """model → relation name, from dbt's own manifest of the fixture."""
    manifest = json.loads((FIXTURE / "oracle" / "manifest.json").read_text())
    return {
        node["name"]: node["relation_name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["relation_name"]
    }


@pytest.fixture
def shop(postgres: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The fixture project copied, its profile aimed at a fresh database on the cluster."""
    import psycopg

    port = postgres.info.port
    postgres.execute(f"DROP DATABASE IF EXISTS {SHOP}")
    postgres.execute(f"CREATE DATABASE {SHOP}")
    root = tmp_path / "shop"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("oracle", "__pycache__"))
    for name, value in {"PGHOST": "127.0.0.1", "PGPORT": str(port), "PGUSER": SERVER_USER,
                        "PGDATABASE": SHOP}.items():  # fmt: skip
        monkeypatch.setenv(f"SHOP_{name}", value)
    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)
    with psycopg.connect(host="127.0.0.1", port=port, user=SERVER_USER, dbname=SHOP,
                         autocommit=True) as conn:  # fmt: skip
        yield root, conn


def _create(conn: Any, relation: str) -> None:
    """Build a relation named as dbt names it (`"db"."schema"."name"` in this database)."""
    _, schema, _ = relation.split(".")
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    conn.execute(f"CREATE TABLE {relation.split('.', 1)[1]} (id integer)")


def test_validate_target_reports_exactly_the_missing_relations(
    shop: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    root, conn = shop
    project = mq.load_project(root)
    names = _dbt_names()
    read = {t.original_name for e in project.explores.values() for t in e.tables.values()}
    expected = {names[model] for model in read}
    local = sorted(r for r in expected if r.startswith('"shop".'))
    assert len(local) >= 3, local  # the fixture reads several relations of its own database
    # Build all but one of the relations in the profile's database, under dbt's names; the
    # cross-database ones (crm_db, finance_db) cannot exist on one PostgreSQL database.
    for relation in local[1:]:
        _create(conn, relation.replace('"shop".', f'"{SHOP}".', 1))
    assert main(["validate", str(root), "--target", "dev"]) == 2
    out = capsys.readouterr().out
    reported = {line.split()[1] for line in out.splitlines() if line.startswith("missing:")}
    want = {r.replace('"shop".', f'"{SHOP}".', 1) for r in expected} - {
        r.replace('"shop".', f'"{SHOP}".', 1) for r in local[1:]
    }
    assert reported == want, out
    assert "FAILED" in out and f"{len(want)} relation(s) missing" in out
    assert "named from" in out


def test_validate_without_target_does_not_touch_the_warehouse(
    shop: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = shop
    monkeypatch.setenv("SHOP_PGPORT", "1")  # nothing listens there: a connection would fail
    assert main(["validate", str(root)]) == 0
    assert "missing:" not in capsys.readouterr().out
