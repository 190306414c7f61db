"""`any_attributes` (Lightdash: the user needs AT LEAST ONE of the listed attributes) on
tables, dimensions and metrics, combined with `required_attributes` (all of them), inherited by
whatever reads a protected field, and kept through Lightdash's explore JSON.

Before this was implemented the key was a load warning and the field stayed open to everyone.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

import metricql as mq
from tests.conftest import assert_same_rows
from tests.helpers import make_project

MODELS = """
models:
  - name: deals
    meta:
      primary_key: deal_id
      joins:
        - join: contracts
          sql_on: ${contracts.deal_id} = ${deals.deal_id}
          relationship: one-to-one
      metrics:
        margin_total:  # reads a protected dimension: inherits its any_attributes
          type: number
          sql: SUM(${margin})
    columns:
      - name: deal_id
        meta:
          dimension: {type: number}
          metrics:
            deal_count: {type: count}
      - name: stage
        meta: {dimension: {type: string}}
      - name: amount
        meta:
          dimension: {type: number}
          metrics:
            pipeline:
              type: sum
              any_attributes: {team: [sales, finance], role: admin}
      - name: margin
        meta:
          dimension:
            type: number
            any_attributes: {team: finance, role: [admin, cfo]}
          additional_dimensions:
            margin_band:
              type: string
              sql: CASE WHEN ${margin} > 50 THEN 'high' ELSE 'low' END
          metrics:
            margin_sum: {type: sum}  # a column metric: inherits its dimension's protection
      - name: owner_email
        meta:
          dimension:
            type: string
            required_attributes: {pii: "yes"}
            any_attributes: {team: [sales, finance]}
  - name: contracts
    meta:
      primary_key: deal_id
      any_attributes: {legal: "yes", role: admin}
    columns:
      - name: deal_id
        meta: {dimension: {type: number}}
      - name: signed
        meta:
          dimension: {type: boolean}
"""

SALES = mq.UserContext(attributes={"team": "sales"})
FINANCE = mq.UserContext(attributes={"team": ["ops", "finance"]})
CFO = mq.UserContext(attributes={"role": "cfo"})
ADMIN = mq.UserContext(attributes={"role": "admin"})
LEGAL = mq.UserContext(attributes={"legal": "yes"})
SALES_PII = mq.UserContext(attributes={"team": "sales", "pii": "yes"})
NOBODY = mq.UserContext(attributes={"team": "support", "role": "analyst", "legal": "no"})


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("any_attributes"), {"models": MODELS})


@pytest.fixture(scope="module")
def project(root: Path) -> mq.Project:
    return mq.load_project(root, strict=True)


@pytest.fixture(scope="module")
def from_json(project: mq.Project) -> mq.Project:
    """The same explores through Lightdash's compiled Explore JSON and back."""
    text = json.dumps([mq.explore_to_dict(e) for e in project.explores.values()])
    return project.with_explores(mq.load_explores_json(text))


@pytest.fixture(scope="module")
def db() -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    conn.execute(
        "CREATE TABLE main.deals AS SELECT i AS deal_id, ['won', 'lost'][i % 2 + 1] AS stage, "
        "10 * i AS amount, i % 100 AS margin, 'rep' || i || '@acme.io' AS owner_email "
        "FROM range(40) t(i)"
    )
    conn.execute(
        "CREATE TABLE main.contracts AS SELECT i AS deal_id, i % 3 = 0 AS signed "
        "FROM range(40) t(i)"
    )
    return conn


def _query(dimensions: list[str], metrics: list[str]) -> mq.MetricQuery:
    return mq.MetricQuery(explore_name="deals", dimensions=dimensions, metrics=metrics, limit=None)


# (field id, users who may read it, users who may not)
CASES = [
    ("deals_pipeline", [SALES, FINANCE, ADMIN], [CFO, LEGAL, NOBODY]),
    ("deals_margin", [FINANCE, CFO, ADMIN], [SALES, LEGAL, NOBODY]),
    ("deals_margin_band", [FINANCE, CFO, ADMIN], [SALES, LEGAL, NOBODY]),
    ("deals_margin_sum", [FINANCE, CFO, ADMIN], [SALES, LEGAL, NOBODY]),
    ("deals_margin_total", [FINANCE, CFO, ADMIN], [SALES, LEGAL, NOBODY]),
    ("deals_owner_email", [SALES_PII], [SALES, FINANCE, ADMIN, CFO, NOBODY]),
    ("contracts_signed", [LEGAL, ADMIN], [SALES, FINANCE, CFO, NOBODY]),
]


def _as_query(field: str) -> mq.MetricQuery:
    is_metric = field in {"deals_pipeline", "deals_margin_sum", "deals_margin_total"}
    return _query(["deals_stage"], [field]) if is_metric else _query([field], ["deals_deal_count"])


@pytest.mark.parametrize("which", ["yaml", "explore_json"])
@pytest.mark.parametrize(("field", "may", "may_not"), CASES, ids=[c[0] for c in CASES])
def test_any_attributes_open_and_close(
    request: pytest.FixtureRequest,
    which: str,
    field: str,
    may: list[mq.UserContext],
    may_not: list[mq.UserContext],
) -> None:
    source = request.getfixturevalue("project" if which == "yaml" else "from_json")
    query = _as_query(field)
    for user in may:
        source.compile(query, user=user)
        assert field in _visible_fields(source, user)
    for user in may_not:
        with pytest.raises(mq.ForbiddenError):
            source.compile(query, user=user)
        assert field not in _visible_fields(source, user)
    with pytest.raises(mq.ForbiddenError):  # no user context: nothing protected is open
        source.compile(query)


def _visible_fields(project: mq.Project, user: mq.UserContext) -> set[str]:
    explore = project.explores_for(user).get("deals")
    return set() if explore is None else {*explore.dimensions, *explore.metrics}


def test_a_protected_join_is_refused_even_through_a_filter(project: mq.Project) -> None:
    query = mq.MetricQuery.model_validate(
        {
            "exploreName": "deals",
            "dimensions": ["deals_stage"],
            "metrics": ["deals_deal_count"],
            "filters": {
                "dimensions": {
                    "id": "g",
                    "and": [
                        {
                            "id": "r",
                            "target": {"fieldId": "contracts_signed"},
                            "operator": "equals",
                            "values": [True],
                        }
                    ],
                }
            },
        }
    )
    with pytest.raises(mq.ForbiddenError):
        project.compile(query, user=FINANCE)
    project.compile(query, user=LEGAL)


def test_allowed_user_gets_the_hand_written_numbers(
    project: mq.Project, db: duckdb.DuckDBPyConnection
) -> None:
    query = _query(["deals_stage", "contracts_signed"], ["deals_margin_sum", "deals_pipeline"])
    result = project.run(query, connection=db, user=ADMIN)
    want = db.sql(
        "SELECT d.stage, c.signed, SUM(d.margin), SUM(d.amount) FROM deals d "
        "LEFT JOIN contracts c ON c.deal_id = d.deal_id GROUP BY 1, 2"
    ).fetchall()
    columns = ["deals_stage", "contracts_signed", "deals_margin_sum", "deals_pipeline"]
    assert_same_rows(result.rows, want, columns)


def test_the_key_is_read_not_warned_about(project: mq.Project) -> None:
    assert not [i for i in project.issues if "any_attributes" in i.message]


def test_explore_json_writes_lightdash_shape(project: mq.Project) -> None:
    data = mq.explore_to_dict(project.explores["deals"])
    contracts = data["tables"]["contracts"]
    assert contracts["anyAttributes"] == {"legal": "yes", "role": "admin"}
    margin = data["tables"]["deals"]["dimensions"]["margin"]
    assert margin["anyAttributes"] == {"team": "finance", "role": ["admin", "cfo"]}
    assert "anyAttributes" not in data["tables"]["deals"]["dimensions"]["stage"]


@pytest.mark.parametrize("eager", [False, True])
def test_the_explores_list_hides_an_explore_whose_base_table_needs_any_attribute(
    root: Path, eager: bool
) -> None:
    """The list of a lazily loaded project comes from the load's record, not built explores:
    it must apply any_attributes too."""
    project = mq.load_project(root, eager=eager, cache=False)

    def listed(user: mq.UserContext) -> set[str]:
        return {row["name"] for row in project.explore_summaries(user)}

    assert "contracts" in listed(LEGAL) and "contracts" in listed(ADMIN)
    assert "contracts" not in listed(SALES) and "contracts" not in listed(NOBODY)
    assert listed(SALES) == set(project.explores_for(SALES))
