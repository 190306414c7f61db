"""The `metricql` command line: exit codes, messages, output formats.

Two groups: tests against a fake project (only `metricql.load_project` is replaced), and
end-to-end tests over a copy of `sample_projects/jaffle_shop` (the real facade, seeds, DuckDB).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType, SimpleNamespace
from typing import Any

import duckdb
import pytest
from sqlglot import exp

import metricql
from metricql.cli import main
from metricql.compiler.compiled import CompiledField, CompiledQuery
from metricql.errors import ProjectError, UnknownExploreError, WarehouseError
from metricql.project.profile import ProfileTarget
from metricql.query.model import MetricQuery
from metricql.results.result import QueryResult
from metricql.semantic.fields import FieldKind

SAMPLE = Path(__file__).resolve().parents[1] / "sample_projects" / "jaffle_shop"
QUERY = {"exploreName": "orders", "dimensions": ["orders_status"], "metrics": ["orders_count"]}
FIELDS = (
    CompiledField("orders_status", "Status", "string", FieldKind.DIMENSION, "orders", "Orders"),
    CompiledField("orders_count", "Count", "count", FieldKind.METRIC, "orders", "Orders"),
)


# --- a fake project: the CLI's own behaviour ----------------------------------------------


@dataclass
class FakeProject:
    """Stands in for metricql.api.Project; records what the CLI asked of it."""

    root: Path
    to_load: list[str] = field(default_factory=list)
    failure: Exception | None = None
    queries: list[MetricQuery] = field(default_factory=list)
    name: str = "shop"

    @property
    def target(self) -> ProfileTarget:
        return ProfileTarget(
            "shop", "dev", "duckdb", MappingProxyType({"path": "shop.duckdb"}), None, self.root
        )

    @property
    def explores(self) -> dict[str, Any]:
        dim = SimpleNamespace(
            label="Status", type=SimpleNamespace(value="string"), hidden=False, description="d"
        )
        secret = SimpleNamespace(label="Secret", type="string", hidden=True, description=None)
        metric = SimpleNamespace(label="Count", type=SimpleNamespace(value="count"), hidden=False)
        metric.description = None
        orders = SimpleNamespace(
            name="orders",
            label="Orders",
            base_table="orders",
            dimensions={"orders_status": dim, "orders_secret": secret},
            metrics={"orders_count": metric},
        )
        return {"orders": orders}

    def compile(self, query: MetricQuery, *, dialect: str | None = None) -> CompiledQuery:
        self.queries.append(query)
        if self.failure:
            raise self.failure
        return CompiledQuery(
            sql=f"SELECT 1 -- {dialect or 'duckdb'}",
            dialect=dialect or "duckdb",
            fields=FIELDS,
            explore=query.explore_name,
            tree=exp.select("1"),
            warnings=("beware of fan-out",),
        )

    def run(
        self, query: MetricQuery, *, connection: Any = None, stream: bool = False
    ) -> QueryResult:
        self.streamed = stream
        compiled = self.compile(query)
        rows = [("completed", 3), ('a, "b"', None)]
        return QueryResult.from_rows(compiled, [f.id for f in FIELDS], rows)

    def ensure_seeded(self) -> list[str]:
        return self.to_load

    def seed(self) -> list[str]:
        return self.to_load

    def validate(self) -> list[str]:
        return ["orders: something odd"]

    issues = ("orders: something odd",)
    errors: tuple[Exception, ...] = ()
    broken_explores: dict[str, Any] = field(default_factory=dict)

    def explore_errors(self) -> list[dict[str, Any]]:
        return []

    def relations(self) -> dict[str, tuple[str, str]]:
        return {"orders": ('"main"."orders"', "schema 'main' from target 'dev'")}

    def close(self) -> None:
        """Nothing to close: the fake opens no connections."""


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeProject:
    project = FakeProject(root=tmp_path)
    calls: list[tuple[Path, str | None]] = []

    def load_project(path: Path, *, target: str | None = None) -> FakeProject:
        calls.append((path, target))
        return project

    monkeypatch.setattr(metricql, "load_project", load_project)
    project.calls = calls  # type: ignore[attr-defined]
    return project


@pytest.fixture
def query_file(tmp_path: Path) -> Path:
    path = tmp_path / "query.json"
    path.write_text(json.dumps(QUERY), encoding="utf-8")
    return path


def test_run_table(fake: FakeProject, query_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(fake.root), str(query_file)]) == 0
    out, err = capsys.readouterr()
    assert out == (
        "orders_status  orders_count\n"
        "-------------  ------------\n"
        "completed                 3\n"
        'a, "b"                    ∅\n'
    )
    assert err == "warning: beware of fan-out\n"


def test_run_csv_and_json(
    fake: FakeProject, query_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(fake.root), str(query_file), "--format", "csv"]) == 0
    assert capsys.readouterr().out == 'orders_status,orders_count\ncompleted,3\n"a, ""b""",\n'
    assert fake.streamed  # CSV is written as the warehouse's batches arrive
    assert main(["run", str(fake.root), str(query_file), "-f", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [f["id"] for f in out["fields"]] == ["orders_status", "orders_count"]
    assert out["rows"][1] == {"orders_status": 'a, "b"', "orders_count": None}


def test_run_passes_target_and_limit(fake: FakeProject, query_file: Path) -> None:
    assert main(["run", str(fake.root), str(query_file), "--target", "prod", "--limit", "7"]) == 0
    assert fake.calls == [(fake.root, "prod")]  # type: ignore[attr-defined]
    assert fake.queries[0].limit == 7
    assert fake.queries[0].dimensions == ("orders_status",)


def test_run_reports_loaded_seeds(
    fake: FakeProject, query_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.to_load = ["main.orders", "main.customers"]
    assert main(["run", str(fake.root), str(query_file)]) == 0
    err = capsys.readouterr().err
    db = fake.root / "shop.duckdb"
    assert f"loaded seeds: main.orders, main.customers into {db}\n" in err


@pytest.mark.parametrize("limit", ["-1", "ten"])
def test_run_bad_limit_is_a_usage_error(
    fake: FakeProject, query_file: Path, limit: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(fake.root), str(query_file), "--limit", limit]) == 2
    assert "--limit" in capsys.readouterr().err


def test_compile_prints_sql(
    fake: FakeProject, query_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compile", str(fake.root), str(query_file), "--dialect", "postgres"]) == 0
    out, err = capsys.readouterr()
    assert out == "SELECT 1 -- postgres\n"
    assert err == "warning: beware of fan-out\n"
    assert main(["compile", str(fake.root), str(query_file), "--format", "json"]) == 0
    out_json = json.loads(capsys.readouterr().out)
    assert out_json["sql"] == "SELECT 1 -- duckdb"
    assert out_json["warnings"] == ["beware of fan-out"]
    assert [f["id"] for f in out_json["fields"]] == ["orders_status", "orders_count"]


def test_query_from_stdin(
    fake: FakeProject, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(QUERY)))
    assert main(["compile", str(fake.root), "-"]) == 0
    assert capsys.readouterr().out == "SELECT 1 -- duckdb\n"


def test_explores_table_and_json(fake: FakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explores", str(fake.root)]) == 0
    assert capsys.readouterr().out == (
        "explore  field          kind       type    label\n"
        "-------  -------------  ---------  ------  ------\n"
        "orders   orders_status  dimension  string  Status\n"
        "orders   orders_count   metric     count   Count\n"
    )
    assert main(["explores", str(fake.root), "--format", "json"]) == 0
    (explore,) = json.loads(capsys.readouterr().out)["explores"]
    assert explore["name"] == "orders"
    assert explore["baseTable"] == "orders"
    assert [d["id"] for d in explore["dimensions"]] == ["orders_status", "orders_secret"]
    assert explore["dimensions"][1]["hidden"] is True
    assert explore["metrics"][0] == {
        "id": "orders_count",
        "label": "Count",
        "type": "count",
        "hidden": False,
        "description": None,
    }


def test_validate(fake: FakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(fake.root)]) == 0
    out, err = capsys.readouterr()
    assert out == (
        'orders  reads "main"."orders"\n'
        "          (schema 'main' from target 'dev')\n"
        "ok: project 'shop', 1 explore, 1 warning(s)\n"
    )
    assert err == "warning: orders: something odd\n"


def test_seed(fake: FakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    fake.to_load = ["main.a", "main.b"]
    assert main(["seed", str(fake.root), "--target", "dev"]) == 0
    assert capsys.readouterr().out == f"loaded seeds: main.a, main.b into {fake.root}/shop.duckdb\n"
    fake.to_load = []
    assert main(["seed", str(fake.root)]) == 0
    assert capsys.readouterr().out == f"no seeds to load in {fake.root}\n"


# --- errors and exit codes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('{"exploreName": "orders",', "not valid JSON"),
        ("", "not valid JSON"),
        ("[1, 2]", "not a valid metric query"),
        ('{"dimensions": ["x"]}', "exploreName"),
        ('{"exploreName": "orders", "limit": -5}', "limit"),
        (
            '{"exploreName": "orders", "dimensions": 1, "metrics": 2, "limit": "x", "sorts": 3}',
            "(and 1 more)",
        ),
    ],
)
def test_malformed_query_file_exits_2_naming_the_file(
    fake: FakeProject, tmp_path: Path, content: str, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad query.json"
    path.write_text(content, encoding="utf-8")
    for command in ("run", "compile"):
        assert main([command, str(tmp_path), str(path)]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.startswith(f"error: {path}")
        assert words in err
        assert "hint: " in err
        assert "Traceback" not in err


def test_json_syntax_error_names_the_line(
    fake: FakeProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "q.json"
    path.write_text('{\n  "exploreName": "orders"\n  "limit": 5\n}\n', encoding="utf-8")
    assert main(["run", str(tmp_path), str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {path}:3: not valid JSON")


def test_unreadable_query_file(
    fake: FakeProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.json"
    assert main(["run", str(tmp_path), str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {missing}: cannot read the query file")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    assert main(["compile", str(tmp_path), str(binary)]) == 2
    assert str(binary) in capsys.readouterr().err


def test_metricql_error_exits_2_with_hint(
    fake: FakeProject, query_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.failure = UnknownExploreError(
        "explore 'order' does not exist", hint="did you mean 'orders'?", explore="order"
    )
    assert main(["run", str(fake.root), str(query_file)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "error: explore 'order' does not exist\n  hint: did you mean 'orders'?\n"


def test_warehouse_error_shows_the_sql(
    fake: FakeProject, query_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.failure = WarehouseError("DuckDB: boom", hint="check it", sql="SELECT\n  1")
    assert main(["run", str(fake.root), str(query_file)]) == 2  # the driver's text may hold data
    assert capsys.readouterr().err == (
        "error: the warehouse could not run the query (warehouse_error)\n"
        "  hint: rerun with --error-detail to see it\n"
    )
    assert main(["--error-detail", "run", str(fake.root), str(query_file)]) == 2
    assert capsys.readouterr().err == (
        "error: DuckDB: boom\n  hint: check it\n  sql:\n    SELECT\n      1\n"
    )


def test_project_error_from_loading_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def load_project(path: Path, *, target: str | None = None) -> None:
        raise ProjectError("no dbt_project.yml here", hint="pass the project folder", file=path)

    monkeypatch.setattr(metricql, "load_project", load_project)
    assert main(["validate", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {tmp_path}: no dbt_project.yml here\n  hint: pass the project folder\n"
    )


def _explode(path: Path, *, target: str | None = None) -> None:
    raise RuntimeError("kaboom")


def test_internal_error_exits_1_without_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(metricql, "load_project", _explode)
    monkeypatch.delenv("METRICQL_DEBUG", raising=False)
    assert main(["explores", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: kaboom" in err
    assert "please report" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["--debug", "explores", "P"], None),
        (["explores", "P", "--debug"], None),
        (["explores", "P"], "1"),
    ],
)
def test_internal_error_traceback_with_debug(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    env: str | None,
) -> None:
    monkeypatch.setattr(metricql, "load_project", _explode)
    if env is None:
        monkeypatch.delenv("METRICQL_DEBUG", raising=False)
    else:
        monkeypatch.setenv("METRICQL_DEBUG", env)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "please report" in err


@pytest.mark.parametrize(
    "argv",
    [[], ["frobnicate"], ["run"], ["run", "P"], ["explores", "P", "--format", "xml"]],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("explores", "compile", "run", "validate", "seed"):
        assert command in out


# --- end to end over the sample project (needs metricql.api and sample_projects) ---------


def _copy_sample(folder: Path) -> Path:
    project = folder / "jaffle_shop"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("*.duckdb*", "target"))
    return project


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A seeded copy of the sample project, shared by the read-only tests below."""
    project = _copy_sample(tmp_path_factory.mktemp("e2e"))
    assert main(["seed", str(project)]) == 0
    yield project


def test_e2e_run_loads_missing_seeds_first_then_not_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _copy_sample(tmp_path)
    query = project / "queries" / "revenue_by_month.json"
    assert main(["run", str(project), str(query), "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert "loaded seeds: " in err
    assert str(project / "jaffle_shop.duckdb") in err
    for table in ("customers", "orders", "payments", "order_items"):
        assert table in err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == [
        "orders_order_date_month",
        "orders_total_revenue",
        "orders_order_count",
    ]

    assert main(["run", str(project), str(query), "--format", "csv"]) == 0
    again_out, again_err = capsys.readouterr()
    assert "loaded seeds" not in again_err
    assert again_out == out

    with duckdb.connect() as con:
        want = con.execute(
            "SELECT sum(amount), count(*) FROM read_csv(?, header = true) "
            "WHERE status = 'completed'",
            [str(project / "seeds" / "orders.csv")],
        ).fetchone()
    assert want is not None
    revenue = sum(float(r["orders_total_revenue"] or 0) for r in rows)
    assert revenue == pytest.approx(want[0])
    assert sum(int(r["orders_order_count"]) for r in rows) == want[1]


@pytest.mark.parametrize("query", sorted(p.name for p in (SAMPLE / "queries").glob("*.json")))
@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_e2e_every_sample_query_runs(
    shop: Path, query: str, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shop / "queries" / query
    assert main(["run", str(shop), str(path), "--format", fmt]) == 0
    out, err = capsys.readouterr()
    assert "error" not in err
    spec = json.loads(path.read_text(encoding="utf-8"))
    ids = [*spec.get("dimensions", []), *spec.get("metrics", [])]
    if fmt == "json":
        assert [f["id"] for f in json.loads(out)["fields"]] == ids
    elif fmt == "csv":
        assert out.split("\n", 1)[0] == ",".join(ids)
    else:
        assert out.split("\n", 1)[0].split() == ids


def test_e2e_run_limit_and_json(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = shop / "queries" / "revenue_by_country.json"
    assert main(["run", str(shop), str(query), "--format", "json", "--limit", "3"]) == 0
    assert len(json.loads(capsys.readouterr().out)["rows"]) == 3
    assert main(["run", str(shop), str(query), "--limit", "2"]) == 0
    assert len(capsys.readouterr().out.rstrip("\n").split("\n")) == 2 + 2  # header, rule, rows


def test_e2e_compile(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = shop / "queries" / "revenue_by_month.json"
    assert main(["compile", str(shop), str(query)]) == 0
    sql = capsys.readouterr().out
    assert sql.lstrip().upper().startswith(("SELECT", "WITH"))
    assert main(["compile", str(shop), str(query), "--dialect", "postgres"]) == 0
    pg_sql = capsys.readouterr().out
    assert pg_sql.lstrip().upper().startswith(("SELECT", "WITH"))
    assert main(["compile", str(shop), str(query), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dialect"] == "duckdb"
    assert out["explore"] == "orders"


def test_e2e_explores_and_validate(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explores", str(shop), "--format", "json"]) == 0
    names = {e["name"] for e in json.loads(capsys.readouterr().out)["explores"]}
    assert {"customers", "orders", "payments"} <= names
    assert main(["explores", str(shop)]) == 0
    assert "orders_total_revenue" in capsys.readouterr().out
    assert main(["validate", str(shop)]) == 0
    out = capsys.readouterr().out
    assert 'orders     reads "main"."orders"\n' in out
    assert out.endswith("ok: project 'jaffle_shop', 3 explores, 0 warning(s)\n")


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"exploreName": "order", "metrics": ["orders_order_count"]}, "'orders'"),
        ({"exploreName": "orders", "metrics": ["orders_total_revenu"]}, "orders_total_revenue"),
    ],
)
def test_e2e_unknown_names_exit_2_with_suggestion(
    shop: Path,
    tmp_path: Path,
    query: dict[str, Any],
    words: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "q.json"
    path.write_text(json.dumps(query), encoding="utf-8")
    for command in ("compile", "run"):
        assert main([command, str(shop), str(path)]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.startswith("error: ")
        assert words in err


def test_e2e_missing_project_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_bench_prints_timings(capsys: pytest.CaptureFixture[str]) -> None:
    from metricql.cli import main as cli_main

    query = SAMPLE / "queries" / "revenue_by_month.json"
    assert cli_main(["bench", str(SAMPLE), str(query), "--runs", "5"]) == 0
    out = capsys.readouterr().out
    for line in ("compile (fresh)", "compile (cached)", "render tree.sql()", "compile ÷ render"):
        assert line in out
