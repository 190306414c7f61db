"""Findings 6, 7 and 8: every size cap is a named error raised before the work grows, and no
input gives a raw Python exception."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest

import metricql as mq
import metricql.compiler.compile as compile_module
from metricql.compiler.compile import compile_query
from metricql.compiler.options import CompileOptions
from tests.helpers import make_project
from tests.security.conftest import FINANCE, query


def _rule(i: int) -> dict[str, Any]:
    return {
        "id": f"r{i}",
        "target": {"fieldId": "accounts_account_id"},
        "operator": "equals",
        "values": [i],
    }


def _nested(depth: int) -> dict[str, Any]:
    group: dict[str, Any] = {"id": "g0", "and": [_rule(0)]}
    for i in range(1, depth):
        group = {"id": f"g{i}", "or": [group]}
    return group


def _bin(**kw: Any) -> mq.CustomBinDimension:
    return mq.CustomBinDimension(
        id="b", name="b", table="accounts", dimension_id="accounts_account_id", **kw
    )


def _sql_dim(sql: str) -> mq.CustomSqlDimension:
    return mq.CustomSqlDimension(id="x", name="x", table="accounts", sql=sql)


BREACHES: dict[str, mq.MetricQuery] = {
    "bins": query(
        dimensions=["b"], custom_dimensions=[_bin(bin_type="fixed_number", bin_number=10**9)]
    ),
    "custom_ranges": query(
        dimensions=["b"],
        custom_dimensions=[
            _bin(
                bin_type="custom_range",
                custom_range=[{"from": i, "to": i + 1} for i in range(100_000)],
            )
        ],
    ),
    "fields": query(metrics=["accounts_account_count"] * 201),
    "filter_rules": query(
        filters={"dimensions": {"id": "g", "and": [_rule(i) for i in range(201)]}}
    ),
    "nesting_depth": query(filters={"dimensions": _nested(21)}),
    "sql_length": query(dimensions=["x"], custom_dimensions=[_sql_dim("1" + " + 1" * 2000)]),
    "calculations": query(
        metrics=["accounts_account_count"],
        table_calculations=[{"name": f"c{i}", "sql": "1"} for i in range(51)],
    ),
}


@pytest.mark.parametrize("limit", sorted(BREACHES))
def test_each_limit_is_enforced_before_any_work(
    acme: mq.Project, limit: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def planned(*_: object, **__: object) -> None:
        raise AssertionError("the query was planned before its sizes were checked")

    monkeypatch.setattr(compile_module, "plan_query", planned)
    with pytest.raises(mq.LimitError, match=limit) as err:
        acme.compile(BREACHES[limit], user=FINANCE)
    assert err.value.context["limit"] == limit


def test_limits_are_configurable(acme: mq.Project) -> None:
    q = query(dimensions=["b"], custom_dimensions=[_bin(bin_type="fixed_number", bin_number=150)])
    with pytest.raises(mq.LimitError, match="bins"):
        acme.compile(q, user=FINANCE)
    roomy = acme.with_limits(mq.Limits(bins=200))
    assert "150" in roomy.compile(q, user=FINANCE).sql


@pytest.mark.parametrize("where", ["custom", "calculation"])
def test_deeply_nested_sql_is_a_named_error(acme: mq.Project, where: str) -> None:
    sql = "(" * 60 + "${accounts.account_count}" + ")" * 60
    q = (
        query(dimensions=["x"], custom_dimensions=[_sql_dim(sql.replace("count", "id"))])
        if where == "custom"
        else query(
            metrics=["accounts_account_count"], table_calculations=[{"name": "t", "sql": sql}]
        )
    )
    with pytest.raises(mq.LimitError, match="nesting_depth"):
        acme.compile(q, user=FINANCE)
    deep = "(" * 5000 + "${accounts.account_count}" + ")" * 5000
    deep_q = (
        query(dimensions=["x"], custom_dimensions=[_sql_dim(deep.replace("count", "id"))])
        if where == "custom"
        else query(
            metrics=["accounts_account_count"], table_calculations=[{"name": "t", "sql": deep}]
        )
    )
    roomy = CompileOptions(user=FINANCE, limits=mq.Limits(nesting_depth=10**6, sql_length=10**6))
    with pytest.raises(mq.QueryError):  # the safety net: never a raw RecursionError
        compile_query(acme.explore("accounts"), deep_q, roomy)


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("{not json", mq.QueryError),
        ("[1, 2]", mq.QueryError),
        ('{"dimensions": ["a"]}', mq.QueryError),  # no exploreName
        ('{"exploreName": "accounts", "limit": NaN}', mq.QueryError),
        ('{"exploreName": "accounts", "limit": true}', mq.QueryError),
        ('{"exploreName": "accounts", "dimensions": 5}', mq.QueryError),
        ("[" * 100_000 + "]" * 100_000, mq.QueryError),
        (
            json.dumps({"exploreName": "accounts", "filters": {"dimensions": _nested(300)}}),
            mq.LimitError,
        ),
    ],
)
def test_parse_query_raises_only_named_errors(source: str, error: type[Exception]) -> None:
    with pytest.raises(error) as err:
        mq.parse_query(source)
    assert isinstance(err.value, mq.MetricQLError)


def test_parse_query_keeps_the_pydantic_detail() -> None:
    with pytest.raises(mq.QueryError) as err:
        mq.parse_query({"exploreName": "accounts", "sorts": [{"descending": True}]})
    assert "sorts" in err.value.message and err.value.context["errors"]


def _load_problem(root: Path, models: str) -> mq.MetricQLError:
    make_project(root, {"models": models})
    with pytest.raises(mq.MetricQLError) as err:
        mq.load_project(root, strict=True)
    # isolated: a broken field is recorded and the rest loads (a broken file still raises)
    with contextlib.suppress(mq.MetricQLError):
        assert mq.load_project(root).errors
    found = err.value
    return found.errors[0] if isinstance(found, mq.ProjectErrors) else found


def test_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    models = "\n".join(lines) + "\nmodels:\n  - name: m\n    meta: {bomb: *a8}\n"
    err = _load_problem(tmp_path, models)
    assert "yaml_aliases" in str(err.hint) and "models.yml" in str(err)


def _dimension_chain(n: int, sql: str) -> str:
    dims = "".join(
        f"            d{i}: {{type: number, sql: '{sql.format(nxt=f'd{i + 1}')}'}}\n"
        for i in range(n)
    )
    return (
        "models:\n  - name: m\n    columns:\n      - name: id\n        meta:\n"
        "          dimension: {type: number}\n          additional_dimensions:\n"
        f"{dims}            d{n}: {{type: number, sql: '${{TABLE}}.id'}}\n"
    )


def test_long_reference_chain_is_a_named_error(tmp_path: Path) -> None:
    err = _load_problem(tmp_path, _dimension_chain(200, "${{{nxt}}} + 1"))
    assert "reference_depth" in str(err.hint)


def test_exponential_references_are_refused(tmp_path: Path) -> None:
    err = _load_problem(tmp_path, _dimension_chain(20, "${{{nxt}}} + ${{{nxt}}}"))
    assert "resolved_sql" in str(err.hint)


def test_long_metric_chain_is_a_named_error(tmp_path: Path) -> None:
    metrics = "".join(
        f"        m{i}: {{type: number, sql: '${{m{i + 1}}} + 1'}}\n" for i in range(1000)
    )
    models = (
        "models:\n  - name: m\n    meta:\n      metrics:\n"
        f"{metrics}        m1000: {{type: sum, sql: '${{TABLE}}.id'}}\n"
        "    columns:\n      - name: id\n        meta: {dimension: {type: number}}\n"
    )
    err = _load_problem(tmp_path, models)
    assert "reference_depth" in str(err.hint)


def test_deeply_nested_yaml_sql_is_a_named_error(tmp_path: Path) -> None:
    deep = "(" * 5000 + "${TABLE}.id" + ")" * 5000
    models = (
        "models:\n  - name: m\n    columns:\n      - name: id\n"
        f"        meta: {{dimension: {{type: number, sql: '{deep}'}}}}\n"
    )
    err = _load_problem(tmp_path, models)
    assert "nests too deeply" in str(err)
