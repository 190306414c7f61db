"""Fan-out detection, metric routes, the split SQL's shape per dialect, and explain."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

import metricql as mq
from metricql.cli import main
from metricql.compiler.plan.fanout import Route, inflation
from metricql.compiler.plan.plan import plan_query
from metricql.compiler.sql.distinct import distinct_aggregate
from metricql.compiler.sql.field_sql import Finalizer
from metricql.dialects import SUPPORTED
from metricql.semantic.explore import Join, Relationship
from metricql.semantic.refs import MARK, marker_kind
from tests.conftest import SAMPLE

R = Relationship


def _join(table: str, parent: str, relationship: Relationship | None) -> Join:
    return Join(table=table, on=exp.true(), relationship=relationship,
                tables_references=frozenset({parent}))  # fmt: skip


def _multipliers(*joins: Join) -> dict[str, set[str]]:
    found = inflation(SimpleNamespace(base_table="base"), joins)  # type: ignore[arg-type]
    return {t: set(m) for t, m in found.multipliers.items()}


# (case, joins) → repeated table → tables whose rows vary within one of its rows
INFLATION = {
    "one-to-many repeats the base": (
        [_join("a", "base", R.ONE_TO_MANY)],
        {"base": {"a"}},
    ),
    "many-to-one repeats the joined table": (
        [_join("a", "base", R.MANY_TO_ONE)],
        {"a": {"base"}},
    ),
    "one-to-one repeats nothing": ([_join("a", "base", R.ONE_TO_ONE)], {}),
    "many-to-many repeats both": (
        [_join("a", "base", R.MANY_TO_MANY)],
        {"base": {"a"}, "a": {"base"}},
    ),
    "no relationship: unknown, nothing assumed": ([_join("a", "base", None)], {}),
    "chain of one-to-many repeats every table above each join": (
        [_join("a", "base", R.ONE_TO_MANY), _join("b", "a", R.ONE_TO_MANY)],
        {"base": {"a", "b"}, "a": {"b"}},
    ),
    "chain of many-to-one: each dimension table repeated by those below it": (
        [_join("a", "base", R.MANY_TO_ONE), _join("b", "a", R.MANY_TO_ONE)],
        {"a": {"base"}, "b": {"base", "a"}},
    ),
    "chasm trap: two one-to-many branches repeat each other": (
        [_join("a", "base", R.ONE_TO_MANY), _join("b", "base", R.ONE_TO_MANY)],
        {"base": {"a", "b"}, "a": {"b"}, "b": {"a"}},
    ),
    "one-to-many below a many-to-one repeats the dimension table too": (
        [_join("c", "base", R.MANY_TO_ONE), _join("p", "base", R.ONE_TO_MANY)],
        {"c": {"base", "p"}, "base": {"p"}},
    ),
    "one-to-one under a one-to-many branch is repeated with it": (
        [
            _join("a", "base", R.ONE_TO_MANY),
            _join("b", "a", R.ONE_TO_ONE),
            _join("c", "base", R.ONE_TO_MANY),
        ],
        {"base": {"a", "b", "c"}, "a": {"c"}, "b": {"c"}, "c": {"a", "b"}},
    ),
}


@pytest.mark.parametrize("case", INFLATION)
def test_inflation(case: str) -> None:
    joins, expected = INFLATION[case]
    assert _multipliers(*joins) == expected


def test_inflation_names_the_joins_without_relationship() -> None:
    found = inflation(
        SimpleNamespace(base_table="base"),  # type: ignore[arg-type]
        [_join("a", "base", None), _join("b", "base", R.ONE_TO_MANY)],
    )
    assert found.unrelated == ("a",)
    assert [(j.table, set(j.repeats)) for j in found.joins] == [("a", set()), ("b", {"base", "a"})]


def _routes(project: mq.Project, **kw: Any) -> dict[str, Route]:
    query = mq.MetricQuery(explore_name=kw.pop("explore", "orders"), **kw)
    explore = project.explore(query.explore_name)
    return {mid: r.route for mid, r in plan_query(explore, query).fanout.routes.items()}


def test_routes_by_metric_type(project: mq.Project) -> None:
    routes = _routes(
        project,
        dimensions=["payments_payment_method"],
        metrics=[
            "orders_total_revenue",
            "orders_unique_customer_count",
            "orders_max_amount",
            "orders_average_order_value",
            "orders_first_order_date",
            "payments_total_amount",
        ],
    )
    assert routes == {
        "orders_total_revenue": Route.OWN_GRAIN,
        "orders_unique_customer_count": Route.PLAIN,  # count_distinct: repeats cannot change it
        "orders_max_amount": Route.PLAIN,
        "orders_average_order_value": Route.COMBINED,
        "orders_order_count": Route.OWN_GRAIN,  # referenced by average_order_value
        "orders_first_order_date": Route.PLAIN,  # MIN(...) in its own SQL: safe
        "payments_total_amount": Route.PLAIN,  # payments is the many side
    }


def test_no_fanout_no_rewrite(project: mq.Project) -> None:
    routes = _routes(
        project,
        dimensions=["customers_country"],
        metrics=["orders_total_revenue", "orders_average_order_value"],
    )
    assert set(routes.values()) == {Route.PLAIN}


def _compile(project: mq.Project, dialect: str = "duckdb", **kw: Any) -> mq.CompiledQuery:
    return project.compile(mq.MetricQuery(explore_name="orders", **kw), dialect=dialect)


CHASM = {
    "dimensions": ["customers_country"],
    "metrics": [
        "orders_total_revenue",
        "orders_average_order_value",
        "payments_total_amount",
        "order_items_item_count",
    ],
}


@pytest.mark.parametrize("dialect", SUPPORTED)
def test_split_sql_parses_in_every_dialect(project: mq.Project, dialect: str) -> None:
    compiled = _compile(project, dialect, **CHASM)
    tree = sqlglot.parse_one(compiled.sql, read=dialect)
    ctes = [c.alias for c in tree.find_all(exp.CTE)]
    # a chasm trap: each piece reads only its own branch, which does not repeat its table
    assert ctes == [
        "fanout_orders_metrics",
        "fanout_payments_metrics",
        "fanout_order_items_metrics",
    ]
    joins = compiled.tree.args["joins"]
    assert len(joins) == 2  # three pieces, joined on the one dimension, NULL-safely:
    for join in joins:
        on = join.args["on"]
        if dialect == "redshift":  # no IS NOT DISTINCT FROM there: the OR form (dialects.py)
            assert on.find(exp.Or) is not None and on.find(exp.Is) is not None
        else:
            assert isinstance(on, exp.NullSafeEQ)
    assert compiled.field_ids == ("customers_country", *CHASM["metrics"])


def test_null_safe_stitch_is_is_not_distinct_from(project: mq.Project) -> None:
    for dialect in ("duckdb", "postgres"):
        sql = _compile(project, dialect, **CHASM).sql
        assert "IS NOT DISTINCT FROM" in sql
        assert "IS NULL AND" not in sql  # not the OR form that defeats hash joins


def _joins_of_ctes(tree: exp.Expr) -> dict[str, set[str]]:
    return {
        c.alias: {j.alias_or_name for j in c.this.args.get("joins") or ()}
        for c in tree.find_all(exp.CTE)
    }


def test_pieces_read_only_the_joins_they_need(project: mq.Project) -> None:
    assert _joins_of_ctes(_compile(project, **CHASM).tree) == {
        "fanout_orders_metrics": {"customers"},
        "fanout_payments_metrics": {"customers", "payments"},
        "fanout_order_items_metrics": {"customers", "order_items"},
    }


def test_distinct_rows_only_where_the_piece_still_repeats_its_table(project: mq.Project) -> None:
    compiled = _compile(
        project,
        dimensions=["payments_payment_method"],
        metrics=["orders_total_revenue", "order_items_item_count", "payments_total_amount"],
    )
    assert _joins_of_ctes(compiled.tree) == {
        "fanout_orders_rows": {"payments"},  # the dimension's join repeats orders: DISTINCT
        "fanout_orders_metrics": set(),
        "fanout_order_items_rows": {"payments", "order_items"},
        "fanout_order_items_metrics": set(),
        "fanout_payments_metrics": {"payments"},  # without order_items: nothing repeats it
    }
    ctes = {c.alias: c.this for c in compiled.tree.find_all(exp.CTE)}
    # payments is read deduplicated on what the pieces read of it (method, order id), which
    # fixes each order's row per method: no DISTINCT over the joined rows is needed
    for name in ("fanout_orders_rows", "fanout_order_items_rows"):
        rows = ctes[name]
        assert not rows.args.get("distinct")
        [payments] = [j.this for j in rows.args["joins"] if j.alias_or_name == "payments"]
        assert isinstance(payments, exp.Subquery) and payments.this.args.get("distinct")
        assert {c.alias_or_name for c in payments.this.expressions} == {
            "payment_method",
            "order_id",
        }
    # the payments piece aggregates only payments: INNER JOINed, then LEFT JOINed back
    [inner] = ctes["fanout_payments_metrics"].args["joins"]
    assert inner.args.get("kind") == "INNER"
    stitch = {j.alias_or_name: j.side for j in compiled.tree.args["joins"]}
    assert stitch == {"fanout_order_items_metrics": "", "fanout_payments_metrics": "LEFT"}


def test_no_dimensions_cross_join(project: mq.Project) -> None:
    compiled = _compile(project, metrics=["orders_total_revenue", "payments_total_amount"])
    joins = list(compiled.tree.find_all(exp.Join))
    assert any(j.args.get("kind") == "CROSS" for j in joins)
    assert not list(compiled.tree.find_all(exp.NullSafeEQ))


def test_distinct_metric_marker_is_caught_if_it_ever_reaches_sql() -> None:
    metric = mq.Metric(
        name="m",
        table="t",
        type=mq.MetricType.SUM_DISTINCT,
        label="M",
        table_label="T",
        sql=exp.column("x"),
    )
    marker = distinct_aggregate(exp.column("x"), metric)
    assert marker_kind(marker) == "distinct"
    assert MARK in marker.sql().lower()  # compile_query refuses SQL containing MARK (any case)


def test_finalizer_gives_distinct_metrics_as_markers(tmp_path: Path) -> None:
    from tests.helpers import make_project

    root = make_project(
        tmp_path,
        {
            "t": """
        version: 2
        models:
          - name: t
            columns:
              - name: k
                meta: {dimension: {type: string}}
              - name: v
                meta:
                  dimension: {type: number}
                  metrics:
                    total: {type: sum_distinct, distinct_keys: [k]}
    """
        },
    )
    explore = mq.load_project(root).explore("t")
    tree = Finalizer(explore, "duckdb").metric(explore.metrics["t_total"])
    assert marker_kind(tree) == "distinct"


def test_explain_join_reasons_and_filters(project: mq.Project) -> None:
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "orders",
            "dimensions": ["referrer_country"],
            "metrics": ["orders_total_revenue"],
            "filters": {
                "dimensions": {
                    "id": "g",
                    "and": [
                        {
                            "id": "r",
                            "target": {"fieldId": "payments_status"},
                            "operator": "equals",
                            "values": ["success"],
                        }
                    ],
                },
                "metrics": {
                    "id": "m",
                    "and": [
                        {
                            "id": "s",
                            "target": {"fieldId": "orders_order_count"},
                            "operator": "greaterThan",
                            "values": [1],
                        }
                    ],
                },
            },
        }
    )
    explained = project.explain(query)
    reasons = {j.table: [(r.kind, r.field) for r in j.reasons] for j in explained.joins}
    assert reasons == {
        "customers": [("connects", "referrer")],
        "referrer": [("dimension", "referrer_country")],
        "payments": [("dimension_filter", "payments_status")],
    }
    assert explained.rewritten
    assert explained.inflated_tables["orders"] == ["payments"]
    placements = {(f.kind, f.target): f.scans for f in explained.filters}
    assert placements == {
        ("dimension_filter", "payments_status"): ("fanout_orders_rows",),
        ("metric_filter", "orders_order_count"): ("metric_filters",),
    }
    routes = {m.id: (m.role, m.computed_in) for m in explained.metrics}
    assert routes == {
        "orders_total_revenue": ("selected", "fanout_orders_metrics"),
        "orders_order_count": ("filter_only", "fanout_orders_metrics"),
    }
    assert explained.sql == project.compile(query).sql


def test_explain_sql_filter_and_unsplit_query(project: mq.Project) -> None:
    query = mq.MetricQuery(
        explore_name="payments",
        dimensions=["payments_status"],
        metrics=["payments_total_amount", "orders_completed_revenue"],
    )
    explained = project.explain(query).to_dict()
    assert explained["rewritten"] is True  # orders is repeated once per payment
    kinds = {(f["kind"], f["target"]): f for f in explained["filters"]}
    assert kinds[("sql_filter", "payments")]["scans"] == ["joined_metrics", "fanout_orders_rows"]
    definition = kinds[("metric_definition", "orders_completed_revenue")]
    assert "fanout_orders_metrics" in definition["placement"]
    plain = project.explain(
        mq.MetricQuery(explore_name="payments", metrics=["payments_total_amount"])
    ).to_dict()
    assert plain["rewritten"] is False
    assert plain["metrics"][0]["computed_in"] == "aggregation"
    assert plain["joins"] == []


def test_cli_compile_explain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = tmp_path / "q.json"
    query.write_text(json.dumps({"exploreName": "orders", **CHASM}))
    assert main(["compile", str(SAMPLE), str(query), "--explain"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rewritten"] is True
    assert {j["table"]: j["relationship"] for j in out["joins"]} == {
        "customers": "many-to-one",
        "payments": "one-to-many",
        "order_items": "one-to-many",
    }
