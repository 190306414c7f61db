"""Property tests over the sample project: random valid queries compile in every dialect and
run; random invalid input raises a MetricQLError (or pydantic's ValidationError for JSON that
is not a MetricQuery at all), never anything else."""

from __future__ import annotations

import contextlib
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import metricql as mq
from metricql.dialects import SUPPORTED

SAMPLE_FIELDS: dict[str, tuple[list[str], list[str]]] = {}


def _fields(project: mq.Project, explore: str) -> tuple[list[str], list[str]]:
    if explore not in SAMPLE_FIELDS:
        e = project.explore(explore)
        SAMPLE_FIELDS[explore] = (
            sorted(k for k, d in e.dimensions.items() if not d.hidden),
            sorted(k for k, m in e.metrics.items() if not m.hidden),
        )
    return SAMPLE_FIELDS[explore]


@st.composite
def queries(draw: st.DrawFn, project: mq.Project) -> mq.MetricQuery:
    explore = draw(st.sampled_from(["orders", "payments", "customers"]))
    dims, metrics = _fields(project, explore)
    chosen_dims = draw(st.lists(st.sampled_from(dims), max_size=3, unique=True))
    chosen_metrics = draw(st.lists(st.sampled_from(metrics), max_size=4, unique=True))
    if not chosen_dims and not chosen_metrics:
        chosen_metrics = [metrics[0]]
    selected = chosen_dims + chosen_metrics
    sorts = draw(st.lists(st.sampled_from(selected), max_size=2, unique=True))
    return mq.MetricQuery(
        explore_name=explore,
        dimensions=chosen_dims,
        metrics=chosen_metrics,
        sorts=[{"field_id": s, "descending": draw(st.booleans())} for s in sorts],
        limit=draw(st.one_of(st.none(), st.integers(0, 50))),
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_valid_queries_compile_everywhere_and_run(
    project: mq.Project, duck: duckdb.DuckDBPyConnection, data: st.DataObject
) -> None:
    query = data.draw(queries(project))
    for dialect in SUPPORTED:
        assert project.compile(query, dialect=dialect).sql
    result = project.run(query, connection=duck)
    assert [f.id for f in result.fields] == [*query.dimensions, *query.metrics]
    if query.limit is not None:
        assert len(result.rows) <= query.limit


JSONISH = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
KEYS = [
    "dimensions",
    "metrics",
    "sorts",
    "filters",
    "limit",
    "tableCalculations",
    "customDimensions",
    "additionalMetrics",
]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.fixed_dictionaries(
        {"exploreName": st.sampled_from(["orders", "nope", ""])},
        optional={k: JSONISH for k in KEYS},
    )
)
def test_random_invalid_input_raises_only_our_errors(
    project: mq.Project, body: dict[str, Any]
) -> None:
    try:
        query = mq.MetricQuery.model_validate(body)
    except ValidationError:
        return  # malformed JSON shape: pydantic names the field; the CLI maps it to QueryError
    except mq.UnsupportedError as err:  # a key metricql does not implement, named
        assert repr(err.context["feature"])[1:-1] in repr(body)
        return
    try:
        project.compile(query)
    except mq.MetricQLError as err:
        assert err.message and err.to_dict()["code"]


@pytest.mark.parametrize(
    "field_id", ["orders_status", "orders_amount", "orders_order_date", "orders_is_gift"]
)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.lists(JSONISH, max_size=3),
    operator=st.sampled_from(
        [
            "equals",
            "notEquals",
            "include",
            "startsWith",
            "lessThan",
            "inBetween",
            "inThePast",
            "inPeriodToDate",
            "isNull",
        ]
    ),
)
def test_random_filter_values_raise_only_our_errors(
    project: mq.Project,
    duck: duckdb.DuckDBPyConnection,
    field_id: str,
    values: list[Any],
    operator: str,
) -> None:
    body = {
        "exploreName": "orders",
        "metrics": ["orders_order_count"],
        "filters": {
            "dimensions": {
                "id": "g",
                "and": [
                    {
                        "id": "r",
                        "target": {"fieldId": field_id},
                        "operator": operator,
                        "values": values,
                    }
                ],
            }
        },
    }
    try:
        query = mq.MetricQuery.model_validate(body)
    except ValidationError:
        return
    with contextlib.suppress(mq.QueryError, mq.CompileError):  # anything else fails the test
        project.run(query, connection=duck)
