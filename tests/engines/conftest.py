"""Engines for the session: a throwaway PostgreSQL cluster holding the sample seeds in schema
`main` (below), in-process ClickHouse (`clickhouse_engine`) and local Spark (`spark_engine`).

    initdb (as the `postgres` OS user when we are root) ─▶ pg_ctl start on a free 127.0.0.1
    port ─▶ CREATE DATABASE ─▶ seeds read by DuckDB's `read_csv` ─▶ COPY with the same types

Loading the rows DuckDB parsed (rather than letting Postgres parse the CSV) keeps both engines
on identical data: same NULLs, same types (BIGINT, DOUBLE, DATE, TIMESTAMP, BOOLEAN, VARCHAR).
Missing server binaries or driver skip the engine tests locally and fail them under CI.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import duckdb
import pytest

from tests.conftest import SAMPLE
from tests.engines import clickhouse_engine, spark_engine

SCHEMA = "main"  # the sample profile's schema, as in the DuckDB fixture
DATABASE = "metricql"
SERVER_USER = "postgres"  # initdb and postgres refuse to run as root
# A login role that must give its password (scram), allowed to read the seeds: the profile
# target tests (test_targets.py) connect as it; everything else connects as SERVER_USER.
READER = "metricql_reader"
READER_PASSWORD = "s3cret-Reader-7391"
# DuckDB type of a seed column (from its CSV sniffer) → the Postgres type holding the same values.
PG_TYPES = {
    "BIGINT": "BIGINT",
    "INTEGER": "INTEGER",
    "DOUBLE": "DOUBLE PRECISION",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP",
    "BOOLEAN": "BOOLEAN",
    "VARCHAR": "TEXT",
}
# fsync off: a test cluster need not survive a crash. C.UTF-8 collation sorts strings by code
# point like DuckDB, and still upper-cases non-ASCII letters (plain C would not).
SERVER_SETTINGS = ("fsync=off", "timezone=UTC", "listen_addresses=127.0.0.1")


def _unavailable(reason: str) -> NoReturn:
    """Fail under CI (CI=true), where PostgreSQL must be installed; skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL engine tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL engine tests skipped: {reason}")


def _driver() -> ModuleType:
    try:
        import psycopg
    except ImportError:
        _unavailable("the psycopg driver is not installed (pip install -e '.[dev]')")
    return psycopg


def _bin_dir() -> Path:
    """The newest Debian server install (/usr/lib/postgresql/N/bin), else initdb on PATH."""
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if debian:
        return debian[-1].parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    _unavailable(
        "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb); "
        "install them with `apt-get install postgresql`"
    )


def _as_server_user(root: Path) -> list[str]:
    """Command prefix running as the `postgres` OS user when we are root; `root` is chowned."""
    if os.geteuid() != 0:
        return []
    try:
        user = pwd.getpwnam(SERVER_USER)
    except KeyError:
        _unavailable(f"running as root and there is no {SERVER_USER!r} OS user to run initdb as")
    os.chown(root, user.pw_uid, user.pw_gid)
    return ["runuser", "-u", SERVER_USER, "--"]


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        pytest.fail(
            f"{what} failed ({done.returncode}): {' '.join(command)}\n{done.stdout}{done.stderr}",
            pytrace=False,
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(pg_ctl: list[str], root: Path) -> int:
    """Start the server on a free port and return it; a second port if the first was taken."""
    log = root / "server.log"
    for _ in range(2):
        port = _free_port()
        options = [f"-c {s}" for s in SERVER_SETTINGS]
        options += [f"-p {port}", f"-c unix_socket_directories={root}"]
        start = [*pg_ctl, "start", "-w", "-t", "60", "-l", str(log), "-o", " ".join(options)]
        done = subprocess.run(start, capture_output=True, text=True, timeout=90, check=False)
        if done.returncode == 0:
            return port
    server_log = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    pytest.fail(
        f"starting PostgreSQL failed: {' '.join(start)}\n{done.stdout}{done.stderr}{server_log}",
        pytrace=False,
    )


def _seed(connection: Any, psycopg: ModuleType) -> None:
    """Every sample seed as `main.<file stem>`, typed and valued as DuckDB reads it."""
    sql = psycopg.sql
    reader = duckdb.connect()
    connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)))
    for path in sorted((SAMPLE / "seeds").glob("*.csv")):
        source = "SELECT * FROM read_csv(?, header = true)"  # as project.seed() reads it
        columns = reader.execute(f"DESCRIBE {source}", [str(path)]).fetchall()
        table = sql.Identifier(SCHEMA, path.stem)
        names = [sql.Identifier(str(c[0])) for c in columns]
        definitions = [
            sql.SQL("{} {}").format(sql.Identifier(str(c[0])), sql.SQL(_pg_type(path, *c[:2])))
            for c in columns
        ]
        connection.execute(
            sql.SQL("CREATE TABLE {} ({})").format(table, sql.SQL(", ").join(definitions))
        )
        rows = reader.execute(source, [str(path)]).fetchall()
        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(table, sql.SQL(", ").join(names))
        with connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)
        connection.execute(sql.SQL("ANALYZE {}").format(table))
    reader.close()


def _pg_type(path: Path, column: str, duck_type: str) -> str:
    """The Postgres type for a DuckDB-inferred seed column type; unknown ones fail loudly."""
    if duck_type not in PG_TYPES:
        pytest.fail(
            f"seed {path.name} column {column!r} has DuckDB type {duck_type}, which the "
            "engine fixture does not map to Postgres: add it to PG_TYPES",
            pytrace=False,
        )
    return PG_TYPES[duck_type]


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """An autocommit psycopg connection to a fresh database holding the sample seeds."""
    psycopg = _driver()
    bin_dir = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="metricql-pg-"))
    try:
        as_user = _as_server_user(root)
        data = root / "data"
        _run(
            [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", SERVER_USER, "-A",
             "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            "initdb",
        )  # fmt: skip
        hba = data / "pg_hba.conf"  # first matching line wins: the reader's password is checked
        hba.write_text(f"host all {READER} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        pg_ctl = [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data)]
        port = _start(pg_ctl, root)
        try:
            yield from _database(psycopg, port)
        finally:
            subprocess.run(
                [*pg_ctl, "stop", "-m", "immediate", "-w"],
                capture_output=True, timeout=60, check=False,
            )  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _database(psycopg: ModuleType, port: int) -> Iterator[Any]:
    params = {"host": "127.0.0.1", "port": port, "user": SERVER_USER, "autocommit": True}
    with psycopg.connect(dbname="postgres", **params) as admin:
        admin.execute(f"CREATE DATABASE {DATABASE}")
    with psycopg.connect(dbname=DATABASE, **params) as connection:
        connection.execute("SET statement_timeout = '60s'")
        _seed(connection, psycopg)
        _reader(connection, psycopg)
        yield connection


def _reader(connection: Any, psycopg: ModuleType) -> None:
    sql = psycopg.sql
    reader, schema = sql.Identifier(READER), sql.Identifier(SCHEMA)
    connection.execute(
        sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(reader, sql.Literal(READER_PASSWORD))
    )
    connection.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, reader))
    connection.execute(
        sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(schema, reader)
    )


@pytest.fixture(scope="session")
def clickhouse() -> Iterator[Any]:
    """A chdb (in-process ClickHouse) connection holding the seeds; see clickhouse_engine."""
    yield from clickhouse_engine.connect()


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The run's one local SparkSession, holding the seeds as `main.<seed>`; see spark_engine."""
    yield from spark_engine.session()
