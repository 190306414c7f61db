"""Building explores: reference resolution, intervals, joins, and every broken reference."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import metricql as mq
from metricql.semantic.fields import TimeInterval, friendly_name
from tests.helpers import load_problem, make_project

BASE = """
models:
  - name: a
    meta:
      primary_key: id
      joins:
        - join: b
          sql_on: ${a.id} = ${b.a_id}
          relationship: one-to-many
        - join: b
          alias: b2
          sql_on: ${a.id} = ${b2.a_id}
          fields: [label]
      metrics:
        ratio: {type: number, sql: "${total} / NULLIF(${n}, 0)"}
        ratio_pct: {type: number, sql: "100 * ${ratio}"}
    columns:
      - name: id
        meta:
          dimension: {type: number}
          metrics:
            n: {type: count}
      - name: amount
        meta:
          dimension: {type: number}
          metrics:
            total: {type: sum}
      - name: doubled
        meta:
          dimension: {type: number, sql: "${amount} * 2"}
      - name: quad
        meta:
          dimension: {type: number, sql: "${doubled} * 2"}
      - name: b_label
        meta:
          dimension: {sql: "${b.label}"}
      - name: created
        meta:
          dimension: {type: timestamp}
  - name: b
    columns:
      - name: a_id
        meta: {dimension: {type: number}}
      - name: label
        meta: {dimension: {type: string}}
"""


def _load(tmp_path: Path, text: str) -> mq.Project:
    return mq.load_project(make_project(tmp_path, {"models": text}))


def test_references_resolve_to_parenthesised_trees(tmp_path: Path) -> None:
    explore = _load(tmp_path, BASE).explore("a")
    assert explore.dimensions["a_quad"].sql.sql() == '(("a".amount) * 2) * 2'
    assert explore.dimensions["a_b_label"].sql.sql() == '("b".label)'
    assert explore.dimensions["a_b_label"].tables_references == {"b"}
    assert explore.metrics["a_ratio_pct"].metric_references == {"a_ratio"}


def test_aliased_join_and_field_subset(tmp_path: Path) -> None:
    explore = _load(tmp_path, BASE).explore("a")
    assert [j.table for j in explore.joins] == ["b", "b2"]
    assert explore.dimensions["b2_label"].sql.sql() == '"b2".label'
    # a_id is used in sql_on, so kept but hidden; not listed in `fields`.
    assert explore.dimensions["b2_a_id"].hidden
    assert not explore.dimensions["b2_label"].hidden
    assert explore.joins[1].on.sql() == '("a".id) = ("b2".a_id)'


def test_default_timestamp_intervals_and_labels(tmp_path: Path) -> None:
    explore = _load(tmp_path, BASE).explore("a")
    names = [d.name for d in explore.dimensions.values() if d.time_interval_base == "created"]
    assert names == [f"created_{i}" for i in ("raw", "day", "week", "month", "quarter", "year")]
    day = explore.dimensions["a_created_day"]
    assert (day.type.value, day.label, day.time_interval) == (
        "date",
        "Created day",
        TimeInterval.DAY,
    )


def test_column_metric_defaults(tmp_path: Path) -> None:
    metric = _load(tmp_path, BASE).explore("a").metrics["a_n"]
    assert (metric.label, metric.description) == ("N", "Count of Id")
    assert metric.dimension_reference == "a_id"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("customer_id", "Customer id"),
        ("myFieldId", "My field id"),
        ("MYFIELDID", "Myfieldid"),
        ("MY_FIELD_ID", "My field id"),
        ("1_field_id", "1 field id"),
        ("my_1field_id", "My 1field id"),
        ("numberrange1", "Numberrange 1"),
        ("numberrange_14", "Numberrange 14"),
        ("date9", "Date 9"),
        ("TIMESTAMP_EST", "Timestamp est"),
        ("Timestamp_EST", "Timestamp est"),
        ("_timestamp_", "Timestamp"),
        ("timestamp__EST", "Timestamp est"),
        ("", ""),
    ],
)
def test_friendly_name(text: str, expected: str) -> None:
    assert friendly_name(text) == expected


def _broken(tmp_path: Path, sql_a: str, sql_b: str = "${TABLE}.y") -> mq.MetricQLError:
    text = f"""
models:
  - name: t
    columns:
      - name: x
        meta: {{dimension: {{type: number, sql: "{sql_a}"}}}}
      - name: y
        meta: {{dimension: {{type: number, sql: "{sql_b}"}}}}
"""
    return load_problem(make_project(tmp_path, {"models": text}))


def test_cycle_a_b_a_is_reported_with_its_path(tmp_path: Path) -> None:
    text = """
models:
  - name: t
    columns:
      - name: x
        meta: {dimension: {type: number, sql: "${y} + 1"}}
      - name: y
        meta: {dimension: {type: number, sql: "${x} + 1"}}
"""
    with pytest.raises(mq.ProjectErrors) as raised:
        mq.load_project(make_project(tmp_path, {"models": text}), strict=True)
    # Both dimensions of the cycle are broken; each error points at its own line.
    errors = {e.context["field"]: e for e in raised.value.errors}
    assert all(isinstance(e, mq.CircularReferenceError) for e in errors.values())
    assert "t.x → t.y → t.x" in str(errors["x"]) and "t.y → t.x → t.y" in str(errors["y"])
    assert (errors["x"].context["line"], errors["y"].context["line"]) == (5, 7)


def test_self_reference_is_a_cycle(tmp_path: Path) -> None:
    err = _broken(tmp_path, "${x} + 1")
    assert isinstance(err, mq.CircularReferenceError)
    assert "t.x → t.x" in str(err)


def test_metric_cycle(tmp_path: Path) -> None:
    text = """
models:
  - name: t
    meta:
      metrics:
        m1: {type: number, sql: "${m2} + 1"}
        m2: {type: number, sql: "${m1} + 1"}
    columns:
      - name: x
"""
    err = load_problem(make_project(tmp_path, {"models": text}))
    assert isinstance(err, mq.CircularReferenceError)
    assert re.search("t_m1 → t_m2 → t_m1|t_m2 → t_m1 → t_m2", str(err))


def test_dangling_reference_names_field_and_ref(tmp_path: Path) -> None:
    err = _broken(tmp_path, "${nope} + 1")
    assert isinstance(err, mq.CompileError)
    assert "${nope}" in str(err)
    assert (err.context["field"], err.context["line"]) == ("x", 5)  # the broken field's own


def test_unparseable_sql_names_field(tmp_path: Path) -> None:
    err = _broken(tmp_path, "${TABLE}.x +* (")
    assert isinstance(err, mq.CompileError)
    assert "does not parse" in str(err)
    assert err.context["field"] == "x"


def test_reference_to_table_outside_explore(tmp_path: Path) -> None:
    err = _broken(tmp_path, "${elsewhere.x}")
    assert isinstance(err, mq.CompileError)
    assert "elsewhere" in str(err)


def test_missing_join_target_and_duplicate_join(tmp_path: Path) -> None:
    text = """
models:
  - name: t
    meta:
      joins:
        - {join: ghost, sql_on: "1 = 1"}
    columns: [{name: x}]
"""
    err = load_problem(make_project(tmp_path, {"models": text}))
    assert isinstance(err, mq.CompileError)
    assert 'cannot find table with name "ghost"' in str(err)
    text = """
models:
  - name: u
    columns: [{name: x}]
  - name: t
    meta:
      joins:
        - {join: u, sql_on: "${t.x} = ${u.x}"}
        - {join: u, sql_on: "${t.x} = ${u.x}"}
    columns: [{name: x}]
"""
    err = load_problem(make_project(tmp_path / "dup", {"models": text}))
    assert isinstance(err, mq.CompileError)
    assert "Use an 'alias'" in str(err)


def test_invalid_dimension_type(tmp_path: Path) -> None:
    text = (
        "models:\n  - name: t\n    columns:\n      - name: x\n"
        "        meta: {dimension: {type: money}}\n"
    )
    with pytest.raises(mq.ProjectError, match="'money'") as err:
        mq.load_project(make_project(tmp_path, {"models": text}), strict=True)
    assert "string, number, timestamp, date, boolean" in (err.value.hint or "")


def test_statement_instead_of_expression(tmp_path: Path) -> None:
    err = _broken(tmp_path, "SELECT 1")
    assert isinstance(err, mq.CompileError)
    assert "expression" in str(err)


def test_metric_named_like_dimension_is_skipped_with_warning(tmp_path: Path) -> None:
    text = """
models:
  - name: t
    columns:
      - name: user_id
        meta:
          metrics:
            user_id: {type: count_distinct}
"""
    explore = _load(tmp_path, text).explore("t")
    assert "t_user_id" not in explore.metrics
    assert any('Skipped metric "user_id"' in w for w in explore.warnings)


def test_sample_project_explores(project: mq.Project) -> None:
    assert sorted(project.explores) == ["customers", "orders", "payments"]
    orders = project.explore("orders")
    assert [j.table for j in orders.joins] == ["customers", "referrer", "payments", "order_items"]
    assert orders.tables["referrer"].original_name == "customers"
    with pytest.raises(mq.UnknownExploreError, match="did you mean 'orders'"):
        project.explore("order")
