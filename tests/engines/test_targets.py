"""Profile targets: `metricql run --target pg|spark` on the throwaway PostgreSQL cluster and the
local Spark session gives DuckDB's rows for every engine query; credentials stay secret; a
timeout cancels; eight threads share the target's connection pool.

The `pg` target connects as READER, whose password PostgreSQL checks (scram), read from the
environment by `env_var()` as dbt does. The `spark` target is `method: session`: it finds the
run's one SparkSession (spark_engine.py) already running and leaves it running.

Relative-date filters compile against the real clock here (the CLI has no fixed clock), on
both sides of each comparison; the sample data lies in 2024, so those windows hold the same
rows everywhere (mostly none).
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

import metricql as mq
from metricql.cli import main
from metricql.warehouse.base import Execution
from metricql.warehouse.spark import SparkWarehouse
from tests.conftest import SAMPLE
from tests.engines.compare import compare, rows_of, sort_keys
from tests.engines.conftest import DATABASE, READER, READER_PASSWORD, SCHEMA
from tests.engines.queries import NOW, QUERIES
from tests.engines.test_postgres import EMPTY_ON_PURPOSE

pytestmark = pytest.mark.engines

PASSWORD_VARIABLE = "METRICQL_TEST_PG_PASSWORD"
# Custom SQL is read in the target's dialect, and can mean something else on DuckDB:
# PostgreSQL divides integers as integers, and sqlglot cannot know `order_id` is an integer
# to keep that on DuckDB. Such queries are checked against hand-written DuckDB SQL instead.
TARGET_MEANING = {
    ("pg", "custom_sql_integer_division"): (
        f"SELECT order_id // 400, COUNT(order_id) FROM {DATABASE}.main.orders "
        "GROUP BY 1 ORDER BY 2 DESC"
    ),
}
# `nap` takes five seconds to read (pg_sleep in its relation); `wake` is instant.
SLEEPY_MODELS = """\
version: 2
models:
  - name: nap
    meta:
      sql_from: "(SELECT 1 AS id, pg_sleep(5)::text AS slept)"
    columns:
      - name: slept
        meta:
          dimension: {type: string}
          metrics:
            naps: {type: count}
  - name: wake
    meta:
      sql_from: "(SELECT 1 AS id)"
    columns:
      - name: id
        meta:
          dimension: {type: number}
          metrics:
            wakes: {type: count}
"""


@pytest.fixture(scope="module")
def profiles_dir(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("profiles")
    pg = {
        "type": "postgres",
        "host": "127.0.0.1",
        "port": postgres.info.port,
        "user": READER,
        "password": f"{{{{ env_var('{PASSWORD_VARIABLE}') }}}}",  # resolved as dbt does
        "dbname": DATABASE,
        "schema": SCHEMA,
        "threads": 4,
    }
    dev = {"type": "duckdb", "path": str(folder / "dev.duckdb"), "schema": SCHEMA}
    spark = {"type": "spark", "method": "session", "host": "NA", "schema": SCHEMA}
    profiles = {
        "jaffle_shop": {"target": "dev", "outputs": {"dev": dev, "pg": pg, "spark": spark}},
        "sleepy": {"target": "pg", "outputs": {"pg": {**pg, "threads": 1}}},
    }
    text = yaml.safe_dump(profiles, sort_keys=False)
    (folder / "profiles.yml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def twins(profiles_dir: Path, duck: Any) -> dict[str, tuple[mq.Project, Any]]:
    """Per target, the project loaded for it (its SQL snippets read in the target's dialect)
    and a DuckDB connection where its relation names resolve: the rows to expect."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBT_PROFILES_DIR", str(profiles_dir))
        patch.setenv(PASSWORD_VARIABLE, READER_PASSWORD)
        pg, spark = (mq.load_project(SAMPLE, target=t) for t in ("pg", "spark"))
    as_pg = duckdb.connect()
    tables = mq.load_project(SAMPLE).seed(connection=as_pg)
    as_pg.execute(f"ATTACH ':memory:' AS {DATABASE}")  # `metricql.main.orders` as on the cluster
    for table in tables:
        as_pg.execute(f"CREATE TABLE {DATABASE}.{table} AS SELECT * FROM {table}")
    return {"pg": (pg, as_pg), "spark": (spark, duck), "dev": (mq.load_project(SAMPLE), duck)}


@pytest.fixture
def profiles(profiles_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """profiles.yml in $DBT_PROFILES_DIR, with the reader's password in the environment."""
    monkeypatch.setenv("DBT_PROFILES_DIR", str(profiles_dir))
    monkeypatch.setenv(PASSWORD_VARIABLE, READER_PASSWORD)
    return profiles_dir


@pytest.fixture(scope="module")
def query_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("queries")
    files = {}
    for name, query in QUERIES.items():
        files[name] = folder / f"{name}.json"
        files[name].write_text(json.dumps(query.model_dump(mode="json", by_alias=True)))
    return files


def _json_rows(result: dict[str, Any], columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """CLI JSON rows as comparable tuples: ISO dates and timestamps back to values (zoned
    ones in UTC, naive), numbers as they are."""
    types = {f["id"]: f["type"] for f in result["fields"]}
    temporal = {c for c in columns if types[c] in ("date", "timestamp")}
    return rows_of(
        [{c: _temporal(r[c]) if c in temporal else r[c] for c in columns} for r in result["rows"]],
        columns,
    )


def _temporal(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        return parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed.date() if "T" not in value and " " not in value else parsed


def _run_cli(target: str, query_file: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code = main(["run", str(SAMPLE), str(query_file), "--target", target, "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    parsed: dict[str, Any] = json.loads(out)
    return parsed


def _same_as_duckdb(
    twins: dict[str, tuple[mq.Project, Any]], target: str, name: str, got: dict[str, Any]
) -> None:
    """`got` (the target's rows) equals the rows of the same project's SQL on DuckDB."""
    project, duck = twins[target]
    query = QUERIES[name]
    compiled = project.compile(query)
    columns = compiled.field_ids
    want = project.run(query, connection=duck).to_dict()
    if (target, name) in TARGET_MEANING:
        rows = duck.execute(TARGET_MEANING[target, name]).fetchall()
        want["rows"] = [dict(zip(columns, row, strict=True)) for row in rows]
    assert [f["id"] for f in got["fields"]] == list(columns)
    problem = compare(
        _json_rows(got, columns), _json_rows(want, columns), columns,
        sort_keys(compiled.tree), query.limit,
    )  # fmt: skip
    assert problem is None, f"{name}: {target} differs from duckdb: {problem}\n{compiled.sql}"


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_pg_target_cli_rows_equal_duckdb_rows(
    twins: dict[str, Any], profiles: Path, query_files: dict[str, Path], name: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    got = _run_cli("pg", query_files[name], capsys)
    _same_as_duckdb(twins, "pg", name, got)


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_spark_session_target_cli_rows_equal_duckdb_rows(
    twins: dict[str, Any], spark: Any, profiles: Path, query_files: dict[str, Path],
    name: str, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    got = _run_cli("spark", query_files[name], capsys)
    _same_as_duckdb(twins, "spark", name, got)
    assert not spark.sparkContext._jsc.sc().isStopped()  # the shared session is left running


@pytest.fixture
def pg_project(profiles: Path) -> Iterator[mq.Project]:
    with mq.load_project(SAMPLE, target="pg") as project:
        yield project


def test_pg_target_session_is_read_only(pg_project: mq.Project) -> None:
    with pytest.raises(mq.WarehouseError, match="read-only"):
        pg_project.warehouse.execute("CREATE TABLE main.scratch (a INTEGER)")
    assert pg_project.warehouse.execute("SELECT 1 AS one") == (["one"], [(1,)])


def test_pg_target_totals_equal_duckdb_totals(
    pg_project: mq.Project, twins: dict[str, Any]
) -> None:
    source, as_pg = twins["pg"]
    query = QUERIES["metrics_orders_by_status"]
    got, want = pg_project.totals(query), source.totals(query, connection=as_pg)
    assert list(got) == list(want) and want
    columns = tuple(want)
    assert compare(rows_of([got], columns), rows_of([want], columns), columns) is None


def test_wrong_password_keeps_password_and_dsn_out_of_the_error(
    profiles: Path, postgres: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "Wr0ng-pass-word-4412"
    monkeypatch.setenv(PASSWORD_VARIABLE, wrong)
    project = mq.load_project(SAMPLE, target="pg")
    query = mq.MetricQuery(explore_name="orders", metrics=["orders_order_count"])
    with pytest.raises(mq.WarehouseError) as info:
        project.run(query)
    err = info.value
    dsn = f"host=127.0.0.1 port={postgres.info.port} user={READER} password={wrong}"
    texts = [
        str(err), repr(err.to_dict()), "".join(traceback.format_exception(err)),
        repr(project.target), repr(project),
    ]  # fmt: skip
    for text in texts:
        assert wrong not in text and dsn not in text and f"password={wrong}" not in text
    assert "password authentication failed" in str(err)  # still says what went wrong
    assert "'pg'" in str(err) and err.hint and "metricql debug" in err.hint
    project.close()


def test_timeout_cancels_and_the_connection_stays_usable(profiles: Path, tmp_path: Path) -> None:
    folder = tmp_path / "sleepy"
    (folder / "models").mkdir(parents=True)
    (folder / "dbt_project.yml").write_text("name: sleepy\nprofile: sleepy\nversion: '1'\n")
    (folder / "models" / "nap.yml").write_text(SLEEPY_MODELS)
    slow = mq.MetricQuery(explore_name="nap", dimensions=["nap_slept"], metrics=["nap_naps"])
    quick = mq.MetricQuery(explore_name="wake", dimensions=["wake_id"], metrics=["wake_wakes"])
    with mq.load_project(folder) as project:
        backend = project.warehouse.execute("SELECT pg_backend_pid()")[1]
        start = time.perf_counter()
        with pytest.raises(mq.QueryTimeoutError) as info:
            project.run(slow, timeout=1.0)
        elapsed = time.perf_counter() - start
        assert elapsed < 2.0, f"the timeout of 1 s took {elapsed:.2f} s"
        assert isinstance(info.value, mq.WarehouseError) and info.value.sql
        assert "timeout of 1 s" in str(info.value)
        # the same pooled connection (threads: 1) runs the next statement
        assert project.warehouse.execute("SELECT pg_backend_pid()")[1] == backend
        assert project.run(quick, timeout=10.0).rows == [{"wake_id": 1, "wake_wakes": 1}]


def test_eight_threads_share_the_pool(pg_project: mq.Project, twins: dict[str, Any]) -> None:
    names = [n for n in sorted(QUERIES)[:25] if ("pg", n) not in TARGET_MEANING]
    source, as_pg = twins["pg"]
    want = {n: source.run(QUERIES[n], connection=as_pg).to_dict() for n in names}
    errors: list[BaseException] = []
    backends: set[int] = set()
    lock = threading.Lock()

    def work(offset: int) -> None:
        try:
            for name in names[offset::3] + names[: offset % 5]:
                got = pg_project.run(QUERIES[name]).to_dict()
                compiled = pg_project.compile(QUERIES[name])
                columns, keys = compiled.field_ids, sort_keys(compiled.tree)
                mine, theirs = _json_rows(got, columns), _json_rows(want[name], columns)
                assert compare(mine, theirs, columns, keys, QUERIES[name].limit) is None
                pid = pg_project.warehouse.execute("SELECT pg_backend_pid()")[1][0][0]
                with lock:
                    backends.add(pid)
        except BaseException as err:
            with lock:
                errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert 1 <= len(backends) <= 4  # `threads: 4` in the profile bounds the connections


def test_adbc_connection_takes_the_arrow_path(
    project: mq.Project, duck: Any, postgres: Any
) -> None:
    import adbc_driver_postgresql.dbapi as adbc

    info = postgres.info
    with adbc.connect(f"postgresql://{info.user}@127.0.0.1:{info.port}/{DATABASE}") as conn:
        for name in sorted(QUERIES):
            got = project.run(QUERIES[name], connection=conn, dialect="postgres", now=NOW)
            assert got._table is not None  # fetched as Arrow (fetch_record_batch)
            want = project.run(QUERIES[name], connection=duck, now=NOW)
            assert bool(want.rows) != (name in EMPTY_ON_PURPOSE), name
            compiled = project.compile(QUERIES[name], dialect="postgres", now=NOW)
            columns = compiled.field_ids
            problem = compare(rows_of(got.rows, columns), rows_of(want.rows, columns), columns,
                              sort_keys(compiled.tree), QUERIES[name].limit)  # fmt: skip
            assert problem is None, f"{name}: ADBC differs from duckdb: {problem}"


def test_debug_checks_each_step(
    profiles: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["debug", str(SAMPLE), "--target", "pg"]) == 0
    lines = capsys.readouterr().out.splitlines()
    steps = [line.split()[:2] for line in lines]
    assert steps[:3] == [["profile", "ok"], ["driver", "ok"], ["connection", "ok"]]
    relations = [line for line in lines if line.startswith("relation")]
    assert len(relations) == 4 and all(line.split()[1] == "ok" for line in relations)
    assert any(f'"{DATABASE}"."main"."orders"' in line for line in relations)
    monkeypatch.setenv(PASSWORD_VARIABLE, "not-the-password")
    assert main(["debug", str(SAMPLE), "--target", "pg"]) == 2
    out = capsys.readouterr().out
    assert "connection  FAILED" in out and "not-the-password" not in out


def test_debug_reports_a_missing_relation(
    profiles: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], postgres: Any
) -> None:
    folder = tmp_path / "broken"
    (folder / "models").mkdir(parents=True)
    (folder / "dbt_project.yml").write_text("name: broken\nprofile: sleepy\nversion: '1'\n")
    (folder / "models" / "ghost.yml").write_text(
        "version: 2\nmodels:\n  - name: ghost\n    columns:\n      - name: id\n"
        "        meta: {dimension: {type: number}}\n"
    )
    assert main(["debug", str(folder)]) == 2
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("relation"))
    assert line.split()[1] == "FAILED" and '"main"."ghost"' in line and "does not exist" in line


def test_duckdb_dev_target_from_the_same_profiles(
    twins: dict[str, Any], profiles: Path, query_files: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    name = "join_orders_to_payments_fanout"
    got = _run_cli("dev", query_files[name], capsys)  # seeds load into dev.duckdb first
    assert got["rows"]
    _same_as_duckdb(twins, "dev", name, got)


def test_spark_timeout_interrupts_the_jobs_and_the_session_stays_usable(spark: Any) -> None:
    warehouse = SparkWarehouse(spark)
    slow = "SELECT SUM(HASH(a.id * b.id)) AS s FROM RANGE(2000000) a CROSS JOIN RANGE(200000) b"
    start = time.perf_counter()
    with pytest.raises(mq.QueryTimeoutError):
        warehouse.fetch(slow, Execution(timeout=2.0))
    elapsed = time.perf_counter() - start
    assert elapsed < 4.0, f"the timeout of 2 s took {elapsed:.2f} s"
    assert warehouse.execute("SELECT 41 + 1 AS x") == (["x"], [(42,)])
    assert not spark.sparkContext._jsc.sc().isStopped()


def test_spark_row_cap_is_a_limit(project: mq.Project, spark: Any, duck: Any) -> None:
    query = QUERIES["sort_nulls_last_desc"]
    whole = project.run(query, connection=spark, now=NOW)
    capped = project.run(query, connection=spark, now=NOW, max_rows=3)
    assert len(whole.rows) > 3 and len(capped.rows) == 3
    columns = capped.columns
    keys = sort_keys(project.compile(query, dialect="spark", now=NOW).tree)
    assert compare(rows_of(capped.rows, columns), rows_of(whole.rows[:3], columns), columns,
                   keys, 3) is None  # fmt: skip
