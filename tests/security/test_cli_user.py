"""Findings 4 and 11 at the command line: run as a user; warehouse errors show a public text."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from metricql.cli import main
from tests.helpers import make_project
from tests.security.conftest import MODELS, seed

PII = json.dumps({"region": "NA", "pii": "yes"})


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = make_project(tmp_path / "acme", {"models": MODELS})
    with duckdb.connect(str(folder / "demo.duckdb")) as conn:
        seed(conn)
    return folder


def _query(folder: Path, **body: object) -> str:
    path = folder / "query.json"
    path.write_text(json.dumps({"exploreName": "accounts", "limit": None, **body}))
    return str(path)


def test_run_as_a_user_with_a_multi_valued_attribute(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    q = _query(root, metrics=["accounts_account_count"])
    attrs = json.dumps({"region": ["NA", "EMEA"]})
    assert main(["run", str(root), q, "-f", "json", "--user-attributes", attrs]) == 0
    assert '"accounts_account_count": 200' in capsys.readouterr().out
    assert main(["run", str(root), q, "--user-attributes", "[1"]) == 2
    assert "--user-attributes is not JSON" in capsys.readouterr().err


def test_custom_sql_needs_the_flag(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    custom = {"id": "x", "name": "x", "table": "accounts", "sql": "upper(${accounts.name})"}
    q = _query(root, dimensions=["x"], customDimensions=[{**custom, "type": "sql"}])
    assert main(["compile", str(root), q, "--user-attributes", PII]) == 2
    assert "may not write" in capsys.readouterr().err
    assert main(["compile", str(root), q, "--user-attributes", PII, "--custom-sql"]) == 0


def test_warehouse_errors_show_the_public_text(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    custom = {"id": "x", "name": "x", "table": "users", "sql": "CAST(${users.email} AS INT)"}
    q = _query(root, dimensions=["x"], customDimensions=[{**custom, "type": "sql"}])
    args = ["run", str(root), q, "--user-attributes", PII, "--custom-sql"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "warehouse_error" in err and "@acme.io" not in err
    assert main(["--error-detail", *args]) == 2
    assert "@acme.io" in capsys.readouterr().err


def test_deep_query_json_is_a_named_error(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = root / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    assert main(["compile", str(root), str(path)]) == 2
    assert "nests too deeply" in capsys.readouterr().err
