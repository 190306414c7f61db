"""Profile targets → driver connections, without a server: each adapter's fields reach its
driver as the dbt adapter passes them (recorded by fake driver modules), a missing driver
names its extra, and secrets stay out of errors and reprs."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator
from types import MappingProxyType, ModuleType, SimpleNamespace
from typing import Any

import pytest

import metricql as mq
from metricql.project.profile import ProfileTarget
from metricql.warehouse.profiles import ADAPTERS, adapter_for, open_warehouse

SECRET = "hunter2-Very-Secret"


class FakeDriver(ModuleType):
    """A driver module whose connect() records its arguments (or fails as told)."""

    def __init__(self, name: str, failure: Exception | None = None) -> None:
        super().__init__(name)
        self.calls: list[dict[str, Any]] = []
        self.failure = failure

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        if self.failure is not None:
            raise self.failure
        return SimpleNamespace(cursor=lambda: None, close=lambda: None, autocommit=False)


def _target(kind: str, **settings: Any) -> ProfileTarget:
    return ProfileTarget("shop", "prod", kind, MappingProxyType(settings))


@pytest.fixture
def drivers(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, FakeDriver]]:
    """Fake modules in place of every driver (and the submodules the connectors import)."""
    fakes: dict[str, FakeDriver] = {}
    names = [a.module for a in ADAPTERS.values()] + [
        "trino.dbapi", "trino.auth", "clickhouse_connect.dbapi", "google.cloud.bigquery.dbapi",
        "pyathena.arrow.cursor",
    ]  # fmt: skip
    for name in names:
        fakes[name] = FakeDriver(name)
        monkeypatch.setitem(sys.modules, name, fakes[name])
    auth = fakes["trino.auth"]
    auth.BasicAuthentication = lambda user, password: ("basic", user, password)  # type: ignore[attr-defined]
    auth.JWTAuthentication = lambda token: ("jwt", token)  # type: ignore[attr-defined]
    fakes["pyathena.arrow.cursor"].ArrowCursor = "ArrowCursor"  # type: ignore[attr-defined]
    yield fakes


def _connect_once(target: ProfileTarget, *, read_only: bool = True) -> Any:
    warehouse = open_warehouse(target, read_only=read_only)
    return warehouse._connections.acquire()  # type: ignore[attr-defined]


# (adapter, profile fields) → what the driver's connect() must receive (a subset).
CASES = [
    (
        "postgres",
        {"host": "db", "port": 5433, "user": "ana", "pass": SECRET, "dbname": "shop",
         "search_path": "a b", "sslmode": "require", "keepalives_idle": 0},
        "psycopg",
        {"host": "db", "port": 5433, "user": "ana", "password": SECRET, "dbname": "shop",
         "sslmode": "require", "connect_timeout": 10, "application_name": "metricql",
         "autocommit": True,
         "options": "-c default_transaction_read_only=on -c search_path=a\\ b"},
    ),
    (
        "redshift",
        {"host": "rs", "user": "ana", "password": SECRET, "database": "dw", "sslmode": "disable"},
        "redshift_connector",
        {"host": "rs", "port": 5439, "database": "dw", "user": "ana", "password": SECRET,
         "ssl": False},
    ),
    (
        "redshift",
        {"host": "rs", "method": "iam", "user": "ana", "cluster_id": "c1", "iam_profile": "p",
         "dbname": "dw", "db_groups": ["g"]},
        "redshift_connector",
        {"iam": True, "db_user": "ana", "user": "", "password": "", "cluster_identifier": "c1",
         "profile": "p", "db_groups": ["g"]},
    ),
    (
        "snowflake",
        {"account": "acme", "user": "ana", "password": SECRET, "role": "r", "warehouse": "wh",
         "database": "db", "schema": "s", "query_tag": "bi", "connect_timeout": 5},
        "snowflake.connector",
        {"account": "acme", "user": "ana", "password": SECRET, "role": "r", "warehouse": "wh",
         "database": "db", "schema": "s", "login_timeout": 5,
         "session_parameters": {"QUERY_TAG": "bi"}},
    ),
    (
        "snowflake",
        {"account": "acme", "user": "ana", "authenticator": "oauth", "token": SECRET},
        "snowflake.connector",
        {"authenticator": "oauth", "token": SECRET},
    ),
    (
        "databricks",
        {"host": "x.cloud.databricks.com", "http_path": "/sql/1", "token": SECRET,
         "catalog": "main", "schema": "s", "session_properties": {"ansi_mode": "true"}},
        "databricks.sql",
        {"server_hostname": "x.cloud.databricks.com", "http_path": "/sql/1",
         "access_token": SECRET, "catalog": "main", "schema": "s",
         "session_configuration": {"ansi_mode": "true"}},
    ),
    (
        "databricks",
        {"host": "x.cloud.databricks.com", "http_path": "/sql/1", "auth_type": "oauth",
         "client_id": "app"},
        "databricks.sql",
        {"auth_type": "databricks-oauth", "oauth_client_id": "app"},
    ),
    (
        "spark",
        {"method": "thrift", "host": "spark", "user": "ana", "schema": "s",
         "server_side_parameters": {"spark.sql.ansi.enabled": "true"}},
        "pyhive.hive",
        {"host": "spark", "port": 10001, "username": "ana",
         "configuration": {"spark.sql.ansi.enabled": "true"}},
    ),
    (
        "trino",
        {"method": "ldap", "host": "t", "port": 8443, "user": "ana", "password": SECRET,
         "database": "hive", "schema": "s", "session_properties": {"query_max_run_time": "1h"}},
        "trino.dbapi",
        {"host": "t", "port": 8443, "user": "ana", "catalog": "hive", "schema": "s",
         "http_scheme": "https", "auth": ("basic", "ana", SECRET),
         "session_properties": {"query_max_run_time": "1h"}},
    ),
    (
        "trino",
        {"method": "none", "host": "t", "user": "ana", "database": "hive", "schema": "s"},
        "trino.dbapi",
        {"host": "t", "port": 8080, "http_scheme": "http", "user": "ana"},
    ),
    (
        "athena",
        {"s3_staging_dir": "s3://b/", "region_name": "eu-west-1", "schema": "s",
         "work_group": "wg", "aws_profile_name": "p"},
        "pyathena",
        {"s3_staging_dir": "s3://b/", "region_name": "eu-west-1", "schema_name": "s",
         "catalog_name": "awsdatacatalog", "work_group": "wg", "profile_name": "p",
         "cursor_class": "ArrowCursor"},
    ),
    (
        "clickhouse",
        {"host": "ch", "user": "ana", "password": SECRET, "schema": "s", "secure": True,
         "custom_settings": {"max_threads": 2}},
        "clickhouse_connect.dbapi",
        {"host": "ch", "port": 8443, "username": "ana", "password": SECRET, "database": "s",
         "secure": True, "settings": {"max_threads": 2, "readonly": 2}},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "settings", "module", "expected"), CASES)
def test_profile_fields_reach_the_driver(
    drivers: dict[str, FakeDriver],
    kind: str,
    settings: dict[str, Any],
    module: str,
    expected: dict[str, Any],
) -> None:
    _connect_once(_target(kind, **settings))
    (call,) = drivers[module].calls
    assert {k: call.get(k, "<missing>") for k in expected} == expected


def test_nothing_connects_before_the_first_query(drivers: dict[str, FakeDriver]) -> None:
    warehouse = open_warehouse(_target("postgres", host="db", threads=3))
    assert drivers["psycopg"].calls == []
    assert warehouse._connections.size == 3  # type: ignore[attr-defined]


def test_read_only_off_leaves_postgres_options_out(drivers: dict[str, FakeDriver]) -> None:
    _connect_once(_target("postgres", host="db"), read_only=False)
    assert "options" not in drivers["psycopg"].calls[0]


@pytest.mark.parametrize("kind", sorted(ADAPTERS))
def test_missing_driver_names_the_extra(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = {"method": "thrift"} if kind == "spark" else {}
    adapter = adapter_for(_target(kind, **settings))
    assert adapter is not None
    monkeypatch.setitem(sys.modules, adapter.module, None)  # `import` of it now fails
    with pytest.raises(mq.MissingDependencyError) as info:
        open_warehouse(_target(kind, **settings))
    assert info.value.hint == f"pip install 'metricql[{adapter.extra}]'"
    assert info.value.to_dict()["extra"] == adapter.extra
    assert adapter.module in str(info.value)


def test_missing_pyspark_for_a_session_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(mq.MissingDependencyError, match=r"metricql\[spark\]"):
        open_warehouse(_target("spark", method="session"))


def test_spark_odbc_method_is_refused_with_a_hint() -> None:
    with pytest.raises(mq.WarehouseError, match="odbc") as info:
        open_warehouse(_target("spark", method="odbc"))
    assert "databricks" in (info.value.hint or "")


def test_connection_failure_masks_secrets_and_drops_the_driver_error(
    drivers: dict[str, FakeDriver],
) -> None:
    dsn = f"host=db port=5432 user=ana password={SECRET}"
    drivers["psycopg"].failure = RuntimeError(f'could not connect with "{dsn}" (token: {SECRET})')
    target = _target("postgres", host="db", user="ana", password=SECRET)
    warehouse = open_warehouse(target)
    with pytest.raises(mq.WarehouseError) as info:
        warehouse.execute("SELECT 1")
    err = info.value
    shown = str(err) + repr(err.to_dict()) + "".join(traceback.format_exception(err))
    assert SECRET not in shown and dsn not in shown
    assert err.__cause__ is None and err.__context__ is None
    assert "could not connect" in str(err) and "'prod'" in str(err)
    assert SECRET not in repr(target) and "settings" not in repr(target)


def test_pool_reopens_after_a_failed_connect(drivers: dict[str, FakeDriver]) -> None:
    drivers["psycopg"].failure = RuntimeError("server starting up")
    warehouse = open_warehouse(_target("postgres", host="db"))
    with pytest.raises(mq.WarehouseError):
        warehouse.execute("SELECT 1")
    drivers["psycopg"].failure = None
    assert warehouse._connections.acquire() is not None  # type: ignore[attr-defined]
    assert len(drivers["psycopg"].calls) == 2


def test_bigquery_service_account_and_job_settings(
    drivers: dict[str, FakeDriver], monkeypatch: pytest.MonkeyPatch
) -> None:
    made: dict[str, Any] = {}
    bq = drivers["google.cloud.bigquery"]
    bq.QueryJobConfig = lambda **kw: made.setdefault("job", kw)  # type: ignore[attr-defined]
    bq.Client = lambda **kw: made.setdefault("client", kw)  # type: ignore[attr-defined]
    accounts = ModuleType("google.oauth2.service_account")
    accounts.Credentials = SimpleNamespace(  # type: ignore[attr-defined]
        from_service_account_file=lambda path, scopes: ("from-file", path, tuple(scopes))
    )
    monkeypatch.setitem(sys.modules, "google.oauth2.service_account", accounts)
    target = _target(
        "bigquery", method="service-account", keyfile="/keys/sa.json", project="acme",
        dataset="analytics", location="EU", maximum_bytes_billed=10**9,
        job_execution_timeout_seconds=300, priority="batch",
    )  # fmt: skip
    _connect_once(target)
    assert made["job"] == {"maximum_bytes_billed": 10**9, "priority": "BATCH",
                           "job_timeout_ms": 300_000}  # fmt: skip
    client = made["client"]
    assert client["project"] == "acme" and client["location"] == "EU"
    assert client["credentials"][:2] == ("from-file", "/keys/sa.json")
    assert "https://www.googleapis.com/auth/bigquery" in client["credentials"][2]
    assert drivers["google.cloud.bigquery.dbapi"].calls == [{"client": client}]


@pytest.mark.parametrize(
    ("template", "env", "expected"),
    [
        ("{{ env_var('MQ_T') | as_number }}", "5433", 5433),
        ("{{ env_var('MQ_T', '5432') | as_number }}", None, 5432),
        ("{{ env_var('MQ_T') | as_number }}", "2.5", 2.5),
        ("{{ env_var('MQ_T') | int }}", "8", 8),
        ("{{ env_var('MQ_T') | as_bool }}", "True", True),
        ("{{ env_var('MQ_T') | as_bool }}", "false", False),
        ("{{ env_var('MQ_T') | as_text }}", "0042", "0042"),
        ("{{ env_var('MQ_T') }}", "0042", 42),
        ("{{env_var('MQ_T')|lower|trim}}", "  ABC ", "abc"),
        ("host-{{ env_var('MQ_T') | as_number }}.example", "7", "host-7.example"),
    ],
)
def test_env_var_filters_give_the_type_dbt_gives(
    template: str, env: str | None, expected: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from metricql.project.profile import _env

    if env is None:
        monkeypatch.delenv("MQ_T", raising=False)
    else:
        monkeypatch.setenv("MQ_T", env)
    got = _env(template)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("{{ env_var('MQ_T') | as_number }}", "cannot be converted"),
        ("{{ env_var('MQ_T') | b64decode }}", "'b64decode'"),
    ],
)
def test_env_var_filter_problems_are_named_without_the_value(
    template: str, words: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from metricql.errors import ProjectError
    from metricql.project.profile import _env

    monkeypatch.setenv("MQ_T", "hunter2-secret")
    with pytest.raises(ProjectError) as caught:
        _env(template)
    assert words in caught.value.message and "hunter2" not in str(caught.value)
