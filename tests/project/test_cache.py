"""The project cache (issue 12): a load from `target/metricql/` is the load from the files, an
edit to any input is seen by the next load, and a damaged or foreign file is rebuilt."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import metricql as mq
from metricql import loading
from metricql.project import cache
from tests.conftest import SAMPLE
from tests.helpers import make_project
from tests.lightdash_features.conftest import FEATURES
from tests.project.test_lazy import BROKEN, _every_field, _queries, _report, _sql_or_error


@pytest.fixture(autouse=True)
def own_secret(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each test with its own cache secret, and the cache switched on."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("home")))
        patch.delenv(cache.DISABLE_ENV, raising=False)
        yield


def _load(root: Path) -> loading.Loaded:
    return loading.load(
        root, target=None, source_dialect=None, strict=False, connection=None, use_cache=True
    )


def _entries(root: Path) -> list[Path]:
    folder = root / "target" / "metricql"
    return sorted(folder.iterdir()) if folder.is_dir() else []


@pytest.mark.parametrize("source", [SAMPLE, FEATURES], ids=["jaffle_shop", "lightdash_features"])
def test_cached_load_is_the_fresh_load(source: Path, tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(source, root, ignore=shutil.ignore_patterns("*.duckdb", "metricql"))
    assert not _load(root).from_cache and _entries(root)
    assert _load(root).from_cache
    cached, fresh = mq.load_project(root), mq.load_project(root, cache=False)
    assert _report(cached) == _report(fresh)
    queries = _queries(root) + [_every_field(e) for e in fresh.explores.values()]
    for query in queries:
        for dialect in ("duckdb", "postgres", "snowflake"):
            assert _sql_or_error(cached, query, dialect) == _sql_or_error(fresh, query, dialect)


def test_broken_project_reports_the_same_errors_from_cache(tmp_path: Path) -> None:
    root = make_project(tmp_path, BROKEN)
    fresh = mq.load_project(root, cache=False)
    mq.load_project(root)
    assert _load(root).from_cache
    cached = mq.load_project(root)
    assert _report(cached) == _report(fresh)
    assert [e.code for e in cached.errors] == [e.code for e in fresh.errors]


MODEL = """
models:
  - name: orders
    meta:
      label: Orders A
    columns:
      - name: id
        meta:
          dimension: {type: number}
          metrics:
            order_count: {type: count}
"""


def _same_stat_edit(file: Path, old: str, new: str) -> None:
    """Replace `old` by `new` (same length) keeping the file's size and times."""
    assert len(old) == len(new)
    before = file.stat()
    file.write_text(file.read_text().replace(old, new))
    os.utime(file, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = file.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_an_edit_that_keeps_size_and_mtime_is_seen(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"orders": MODEL})
    assert mq.load_project(root).explore("orders").label == "Orders A"
    assert _load(root).from_cache
    _same_stat_edit(root / "models" / "orders.yml", "Orders A", "Orders B")
    assert not _load(root).from_cache
    assert mq.load_project(root).explore("orders").label == "Orders B"


def _sql(project: mq.Project) -> str:
    query = mq.MetricQuery(explore_name="orders", metrics=["orders_order_count"])
    return project.compile(query).sql


def test_edits_to_dbt_project_sql_config_and_lightdash_config_are_seen(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"orders": MODEL})
    (root / "models" / "orders.sql").write_text("select 1 as id\n")
    assert '"main"."orders"' in _sql(mq.load_project(root))

    (root / "models" / "orders.sql").write_text("{{ config(alias='orders_v2') }}\nselect 1 as id\n")
    assert '"main"."orders_v2"' in _sql(mq.load_project(root))

    project_file = root / "dbt_project.yml"
    project_file.write_text(project_file.read_text() + "models:\n  +schema: marts\n")
    assert '"main_marts"."orders_v2"' in _sql(mq.load_project(root))

    assert mq.load_project(root).parameters == {}
    (root / "lightdash.config.yml").write_text("parameters:\n  cutoff:\n    default: 3\n")
    assert list(mq.load_project(root).parameters) == ["cutoff"]
    _same_stat_edit(root / "lightdash.config.yml", "default: 3", "default: 4")
    assert mq.load_project(root).parameters["cutoff"].default == 4
    assert _load(root).from_cache  # and after all that, an unchanged project is a hit


def test_a_new_file_and_a_removed_one_are_seen(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"orders": MODEL})
    assert list(mq.load_project(root).explores) == ["orders"]
    (root / "models" / "items.yml").write_text(MODEL.replace("orders", "items"))
    assert sorted(mq.load_project(root).explores) == ["items", "orders"]
    (root / "models" / "items.yml").unlink()
    assert list(mq.load_project(root).explores) == ["orders"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],  # truncated
        lambda b: b[:-10] + bytes(10),  # corrupt payload
        lambda b: b"not a cache file",
        lambda b: b"",
    ],
    ids=["truncated", "corrupt", "foreign", "empty"],
)
def test_a_damaged_entry_is_rebuilt_not_an_error(tmp_path: Path, damage: object) -> None:
    root = make_project(tmp_path, {"orders": MODEL})
    want = _sql(mq.load_project(root))
    (entry,) = _entries(root)
    entry.write_bytes(damage(entry.read_bytes()))  # type: ignore[operator]
    assert not _load(root).from_cache  # rebuilt, and written again
    assert _load(root).from_cache
    assert _sql(mq.load_project(root)) == want


UNPICKLED: list[str] = []


class _Payload:
    """What a hostile pickle does: run code when read."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (UNPICKLED.append, ("ran",))


def test_an_entry_written_with_another_secret_is_never_unpickled(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"orders": MODEL})
    want = _sql(mq.load_project(root))
    entry = loading._entry(root, (None, None, False))
    assert entry is not None and _entries(root) == [entry.file]
    # A well-formed entry, under the right file name and key, signed with another secret.
    assert cache.write(entry.file, entry.key, b"\1" * 32, _Payload())
    assert not _load(root).from_cache
    assert UNPICKLED == []
    assert _sql(mq.load_project(root)) == want and _load(root).from_cache


def test_read_only_project_loads_without_a_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder that refuses writes (also as root, where chmod would not: CI runs as root)."""
    root = make_project(tmp_path, {"orders": MODEL})

    def refuse(*args: object, **kw: object) -> None:
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(Path, "mkdir", refuse)
    monkeypatch.setattr(cache.tempfile, "mkstemp", refuse)
    assert "COUNT" in _sql(mq.load_project(root))
    assert "COUNT" in _sql(mq.load_project(root))
    assert not _load(root).from_cache
    assert not (root / "target").exists()


def test_unwritable_target_folder_loads_without_a_cache(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"orders": MODEL})
    (root / "target").write_text("a file where the folder would go")
    assert "COUNT" in _sql(mq.load_project(root))
    assert not _load(root).from_cache


def test_cache_can_be_switched_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path, {"orders": MODEL})
    mq.load_project(root, cache=False)
    mq.load_project(root, eager=True)
    assert _entries(root) == []
    monkeypatch.setenv(cache.DISABLE_ENV, "1")
    mq.load_project(root)
    assert _entries(root) == []
    monkeypatch.setenv(cache.DISABLE_ENV, "0")
    mq.load_project(root)
    assert len(_entries(root)) == 1


def test_concurrent_loads_share_one_whole_entry(tmp_path: Path) -> None:
    root = make_project(tmp_path, {f"m{i}": MODEL.replace("orders", f"m{i}") for i in range(20)})
    want = sorted(mq.load_project(root, cache=False).explores)
    got: list[list[str]] = []
    barrier = threading.Barrier(6)

    def worker() -> None:
        barrier.wait()
        for _ in range(3):
            got.append(sorted(mq.load_project(root).explores))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [want] * 18
    assert [p.name.startswith("load-") for p in _entries(root)] == [True]  # no temp files left
    assert _load(root).from_cache


def test_profile_secrets_are_not_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "hunter2-do-not-store")
    profiles = (
        "demo:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      host: db\n"
        "      user: me\n      password: \"{{ env_var('DEMO_PASSWORD') }}\"\n"
        "      dbname: shop\n      schema: main\n"
    )
    root = make_project(tmp_path, {"orders": MODEL}, profiles=profiles)
    assert mq.load_project(root).target.settings["password"] == "hunter2-do-not-store"  # type: ignore[union-attr]
    (entry,) = _entries(root)
    assert b"hunter2" not in entry.read_bytes()
    cached = mq.load_project(root)
    assert _load(root).from_cache
    assert cached.target.settings["password"] == "hunter2-do-not-store"  # type: ignore[union-attr]
    monkeypatch.setenv("DEMO_PASSWORD", "changed")  # a changed profile is a different entry
    assert not _load(root).from_cache


UNTYPED = """
models:
  - name: orders
    columns:
      - name: id
        meta:
          dimension: {type: number}
          metrics:
            order_count: {type: count}
      - name: amount
"""

CATALOG = """{"nodes": {"model.demo.orders": {"metadata": {"schema": "main", "name": "orders"},
  "columns": {"amount": {"name": "amount", "type": "%s"}}}}, "sources": {}}"""

SCHEMA_MACRO = """{%% macro generate_schema_name(custom_schema_name, node) -%%}
    {%%- if custom_schema_name is none -%%}{{ target.schema }}{%%- else -%%}%s{%%- endif -%%}
{%%- endmacro %%}
"""


def test_edits_to_catalog_json_and_to_a_naming_macro_are_seen(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"orders": UNTYPED})
    (root / "target").mkdir()
    (root / "target" / "catalog.json").write_text(CATALOG % "INTEGER")
    amount = mq.load_project(root).explore("orders").dimensions["orders_amount"]
    assert amount.type == mq.DimensionType.NUMBER
    (root / "target" / "catalog.json").write_text(CATALOG % "VARCHAR")
    amount = mq.load_project(root).explore("orders").dimensions["orders_amount"]
    assert amount.type == mq.DimensionType.STRING

    (root / "models" / "orders.sql").write_text("{{ config(schema='marts') }}\nselect 1\n")
    (root / "macros").mkdir()
    (root / "macros" / "naming.sql").write_text(SCHEMA_MACRO % "{{ custom_schema_name | trim }}")
    assert '"marts"."orders"' in _sql(mq.load_project(root))
    (root / "macros" / "naming.sql").write_text(SCHEMA_MACRO % "x_{{ custom_schema_name | trim }}")
    fresh = _sql(mq.load_project(root, cache=False))
    assert _sql(mq.load_project(root)) == fresh and '"marts"."orders"' not in fresh


def test_a_streamed_entry_reads_back_and_a_payload_failing_midway_leaves_nothing(
    tmp_path: Path,
) -> None:
    secret, key = b"s" * 32, b"k" * 32
    file = tmp_path / "target" / "metricql" / "entry.pickle"
    payload = {"models": {f"m{i}": bytes(1000) for i in range(300)}, "n": 1}  # > 1 frame
    assert cache.write(file, key, secret, payload)
    assert cache.read(file, key, secret) == payload
    assert cache.read(file, key, b"t" * 32) is None  # signed with the secret it was written with
    failing = {"first": bytes(200_000), "then": threading.Lock()}  # written partly, then fails
    other = tmp_path / "target" / "metricql" / "other.pickle"
    assert not cache.write(other, key, secret, failing)
    assert sorted(p.name for p in file.parent.iterdir()) == ["entry.pickle"]
