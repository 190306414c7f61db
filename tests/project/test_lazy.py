"""Lazy explores (issue 12): a project whose explores are built on first use compiles the same
SQL and reports the same errors as one built eagerly at load."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest

import metricql as mq
from metricql.errors import MetricQLError
from metricql.semantic.lazy import LazyExplores
from tests.conftest import SAMPLE
from tests.helpers import make_project
from tests.lightdash_features.conftest import FEATURES

PROJECTS = {"jaffle_shop": SAMPLE, "lightdash_features": FEATURES}
DIALECTS = ("duckdb", "postgres", "bigquery", "snowflake")


def _queries(root: Path) -> list[mq.MetricQuery]:
    return [mq.parse_query(json.loads(p.read_text())) for p in sorted(root.glob("queries/*.json"))]


def _every_field(explore: mq.Explore) -> mq.MetricQuery:
    """One query over every visible dimension and metric of `explore`."""
    return mq.MetricQuery(
        explore_name=explore.name,
        dimensions=[d.id for d in explore.dimensions.values() if not d.hidden],
        metrics=[m.id for m in explore.metrics.values() if not m.hidden],
    )


def _sql_or_error(project: mq.Project, query: mq.MetricQuery, dialect: str) -> str:
    try:
        return project.compile(query, dialect=dialect).sql
    except MetricQLError as err:
        return f"{type(err).__name__} {err.code}: {err}"


def _comparable(explore: mq.Explore) -> mq.Explore:
    """`explore` with its field errors as values (exceptions compare by identity)."""
    tables = {
        key: replace(
            table,
            field_errors=MappingProxyType(
                {f: (type(e), e.code, str(e), e.where) for f, e in table.field_errors.items()}  # type: ignore[misc]
            ),
        )
        for key, table in explore.tables.items()
    }
    return replace(explore, tables=MappingProxyType(tables))


def _report(project: mq.Project) -> tuple[object, ...]:
    """Everything a load reports, as comparable values."""
    return (
        list(project.explores),
        [(type(e), e.code, str(e), e.where, e.hint) for e in project.errors],
        {n: [str(e) for e in errors] for n, errors in project.broken_explores.items()},
        project.issues,
        project.validate(),
        project.explore_errors(),
        dict(project.parameters),
    )


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_lazy_project_compiles_what_the_eager_one_does(name: str) -> None:
    lazy = mq.load_project(PROJECTS[name])
    eager = mq.load_project(PROJECTS[name], eager=True)
    assert isinstance(lazy.explores, LazyExplores)
    assert not isinstance(eager.explores, LazyExplores)
    assert lazy.explores.built == 0  # loading built nothing to keep
    queries = _queries(PROJECTS[name]) + [_every_field(e) for e in eager.explores.values()]
    assert len(queries) > len(eager.explores)
    for query in queries:
        for dialect in DIALECTS:
            assert _sql_or_error(lazy, query, dialect) == _sql_or_error(eager, query, dialect)
    for explore_name, explore in eager.explores.items():  # the whole built value, trees too
        assert _comparable(lazy.explore(explore_name)) == _comparable(explore)
    assert _report(lazy) == _report(eager)


def test_listing_and_errors_do_not_build_explores() -> None:
    project = mq.load_project(FEATURES)
    assert isinstance(project.explores, LazyExplores)
    assert sorted(project.explores) == ["customers", "large_orders", "orders"]
    assert len(project.explores) == 3 and "orders" in project.explores
    assert "refunds" not in project.explores  # broken: listed under broken_explores only
    assert len(project.errors) == 4 and project.validate() and project.issues is not None
    assert project.explores.built == 0
    project.explore("orders")
    assert project.explores.built == 1


BROKEN = {
    "a": """
    models:
      - name: a
        meta:
          primary_key: id
          joins:
            - join: missing
              sql_on: ${a.id} = ${missing.id}
          explores:
            a_plain:
              label: Plain A
            a_with_b:
              joins:
                - join: b
                  sql_on: ${a.id} = ${b.a_id}
        columns:
          - name: id
            meta:
              dimension: {type: number}
              metrics:
                n: {type: count_distinct}
          - name: bad_ref
            meta:
              dimension: {type: string, sql: "${TABLE}.x || ${nowhere.y}"}
          - name: bad_type
            meta:
              dimension: {type: colour}
    """,
    "b": """
    models:
      - name: b
        meta:
          primary_key: id
          default_filters:
            - secret: 1
        columns:
          - name: id
            meta: {dimension: {type: number}}
          - name: a_id
            meta: {dimension: {type: number}}
          - name: secret
            meta: {dimension: {type: number, hidden: true}}
          - name: label
            meta:
              dimension: {type: string, sql: "${a.id} ||"}
    """,
    "d": """
    models:
      - name: d
        meta:
          metrics:
            loop_one: {type: number, sql: "${loop_two} + 1"}
            loop_two: {type: number, sql: "${loop_one} + 1"}
        columns:
          - name: id
            meta: {dimension: {type: number}}
    """,
    "c": """
    models:
      - name: c
        meta:
          primary_key: id
          joins:
            - join: a
              sql_on: ${c.a_id} = ${a.id}
        columns:
          - name: id
            meta:
              dimension: {type: number}
              metrics:
                total: {type: sum}
                total_share: {type: number, sql: "${total} / ${a.n}"}
          - name: a_id
            meta: {dimension: {type: number}}
    """,
}


def test_broken_projects_report_the_same_errors_lazy_and_eager(tmp_path: Path) -> None:
    root = make_project(tmp_path, BROKEN)
    lazy, eager = mq.load_project(root), mq.load_project(root, eager=True)
    report = _report(eager)
    assert report[0] == ["a_with_b", "c"]  # built, with fields left out:
    assert sorted(report[2]) == ["a", "a_plain", "b", "d"]  # broken
    assert len(report[1]) > len(report[2])
    assert _report(lazy) == report
    for name, explore in eager.explores.items():
        assert _comparable(lazy.explore(name)) == _comparable(explore)
        query = _every_field(explore)
        assert _sql_or_error(lazy, query, "duckdb") == _sql_or_error(eager, query, "duckdb")
    for name in eager.broken_explores:  # a broken explore raises its own error either way
        with pytest.raises(MetricQLError) as lazy_err:
            lazy.explore(name)
        with pytest.raises(MetricQLError) as eager_err:
            eager.explore(name)
        assert str(lazy_err.value) == str(eager_err.value)


def test_strict_load_raises_the_same_problems(tmp_path: Path) -> None:
    root = make_project(tmp_path, BROKEN)
    with pytest.raises(mq.ProjectErrors) as lazy:
        mq.load_project(root, strict=True)
    with pytest.raises(mq.ProjectErrors) as eager:
        mq.load_project(root, strict=True, eager=True)
    assert [str(e) for e in lazy.value.errors] == [str(e) for e in eager.value.errors]


def test_concurrent_first_use_builds_each_explore_once() -> None:
    project = mq.load_project(SAMPLE)
    explores = project.explores
    assert isinstance(explores, LazyExplores)
    names = list(explores)
    barrier = threading.Barrier(8)
    seen: list[list[mq.Explore]] = []

    def worker() -> None:
        barrier.wait()
        seen.append([project.explore(n) for n in names])

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 8 and explores.built == len(names)
    for got in seen:  # one object per explore, whichever thread built it
        assert all(a is b for a, b in zip(got, seen[0], strict=True))


def test_with_limits_keeps_the_explores_lazy() -> None:
    project = mq.load_project(SAMPLE)
    limited = project.with_limits(mq.Limits())
    assert limited.explores is project.explores
    assert project.explores.built == 0


def test_server_explore_request_builds_only_that_explore() -> None:
    pytest.importorskip("fastapi")
    from metricql.server.auth import Principal
    from metricql.server.requests import explore_for

    project = mq.load_project(SAMPLE)
    assert isinstance(project.explores, LazyExplores)
    seen = explore_for(project, "orders", Principal(user=mq.UserContext()))
    assert seen.name == "orders" and project.explores.built == 1


def test_explores_list_is_the_eager_one_and_builds_nothing(tmp_path: Path) -> None:
    from tests.security.conftest import ANALYST, AUTHOR, FINANCE, MODELS

    hostile_root = make_project(tmp_path, {"models": MODELS})  # protected explores and tables

    for root in (hostile_root, FEATURES):
        lazy, eager = mq.load_project(root), mq.load_project(root, eager=True)
        for user in (None, ANALYST, AUTHOR, FINANCE, mq.UserContext()):
            want = mq.explore_summaries(eager.explores_for(user), eager.explore_errors())
            assert lazy.explore_summaries(user) == want == eager.explore_summaries(user)
        assert isinstance(lazy.explores, LazyExplores) and lazy.explores.built == 0
    protected = mq.load_project(hostile_root)
    names = {s["name"] for s in protected.explore_summaries(None)}
    assert names != {s["name"] for s in protected.explore_summaries(FINANCE)}  # it filters


@pytest.mark.parametrize("eager", [False, True])
def test_with_limits_keeps_broken_explores_origins_and_parameters(
    tmp_path: Path, eager: bool
) -> None:
    """A project with other limits serves the same explores: a broken one still raises its own
    error (not "does not exist"), and what the load found stays listed."""
    root = make_project(tmp_path, BROKEN)
    project = mq.load_project(root, eager=eager)
    limited = project.with_limits(mq.Limits(fields=10))
    assert limited.broken_explores == project.broken_explores
    assert limited.explore_errors() == project.explore_errors()
    assert limited.relations() == project.relations()
    assert limited.parameters == project.parameters
    for name in project.broken_explores:
        with pytest.raises(MetricQLError) as err:
            limited.explore(name)
        assert not isinstance(err.value, mq.UnknownExploreError)
    features = mq.load_project(FEATURES, eager=eager)
    assert features.with_limits(mq.Limits()).parameters == features.parameters
