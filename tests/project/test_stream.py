"""A cold lazy load validates explore by explore (issue 12): it reports what the eager build
reports whatever its windows keep, and never holds more than one explore at a time."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pydantic
import pytest

import metricql as mq
from metricql import loading
from metricql.semantic import stream
from metricql.semantic.explore import Explore
from metricql.semantic.models import ModelDef
from tests.helpers import make_project
from tests.project.test_lazy import (
    BROKEN,
    DIALECTS,
    PROJECTS,
    _comparable,
    _every_field,
    _report,
    _sql_or_error,
)


@pytest.fixture
def tiny_windows(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """One model definition and one shared table kept; a collection after every explore."""
    monkeypatch.setattr(stream, "KEEP_DEFS", 1)
    monkeypatch.setattr(stream, "KEEP_TABLES", 1)
    monkeypatch.setattr(stream, "COLLECT_AFTER", 0)
    yield


def _same_as_eager(root: Path) -> None:
    lazy = mq.load_project(root, cache=False)
    eager = mq.load_project(root, cache=False, eager=True)
    assert _report(lazy) == _report(eager)
    assert lazy.explore_summaries(None) == eager.explore_summaries(None)
    for name, explore in eager.explores.items():
        assert _comparable(lazy.explore(name)) == _comparable(explore)
        for dialect in DIALECTS:
            query = _every_field(explore)
            assert _sql_or_error(lazy, query, dialect) == _sql_or_error(eager, query, dialect)


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_tiny_windows_report_what_the_eager_build_does(name: str, tiny_windows: None) -> None:
    _same_as_eager(PROJECTS[name])


def test_tiny_windows_report_a_broken_project_as_the_eager_build(
    tmp_path: Path, tiny_windows: None
) -> None:
    root = make_project(tmp_path, BROKEN)
    _same_as_eager(root)
    errors = mq.load_project(root, cache=False).broken_explores["a"]
    assert any(e.hint == "models are: a, b, c, d" for e in errors)  # every model made


def _live(kind: type) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, kind))


def test_cold_load_holds_one_explore_and_a_window_of_definitions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "KEEP_DEFS", 3)
    models = {
        f"m{i}": f"""
        models:
          - name: m{i}
            meta:
              joins:
                - join: m{(i + 1) % 12}
                  sql_on: ${{m{i}.next_id}} = ${{m{(i + 1) % 12}.id}}
            columns:
              - name: id
                meta: {{dimension: {{type: number}}, metrics: {{n: {{type: count}}}}}}
              - name: next_id
                meta: {{dimension: {{type: number}}}}
        """
        for i in range(12)
    }
    root = make_project(tmp_path, models)
    seen: list[tuple[int, int]] = []
    summarise = loading._listing

    def counting(explore: Explore) -> loading.Listing:
        seen.append((_live(Explore), _live(ModelDef)))
        return summarise(explore)

    monkeypatch.setattr(loading, "_listing", counting)
    project = mq.load_project(root, cache=False)
    assert len(seen) == 12 == len(project.explores)
    assert max(explores for explores, _ in seen) == 1  # the one being summarised
    assert max(defs for _, defs in seen) <= 3


def test_each_distinct_snippet_is_parsed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from metricql.semantic import refs

    monkeypatch.setattr(refs, "_PARSED", {})
    shared = "UPPER(${TABLE}.name) || '-' || ${TABLE}.code"
    models = {
        f"m{i}": f"""
        models:
          - name: m{i}
            columns:
              - name: name
              - name: code
              - name: label
                meta: {{dimension: {{type: string, sql: "{shared}"}}}}
        """
        for i in range(3)
    }
    parsed: list[str] = []
    parse_one = refs.sqlglot.parse_one

    def counting(text: str, **kwargs: object) -> object:
        parsed.append(text)
        return parse_one(text, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(refs.sqlglot, "parse_one", counting)
    project = mq.load_project(make_project(tmp_path, models), cache=False)
    assert len([t for t in parsed if "UPPER" in t]) == 1
    sqls = {
        project.compile(mq.MetricQuery(explore_name=f"m{i}", dimensions=(f"m{i}_label",))).sql
        for i in range(3)
    }
    assert len(sqls) == 3 and all("UPPER(" in s for s in sqls)


def test_parsed_models_share_their_set_field_names_safely() -> None:
    from metricql.project.schema import ColumnSchema

    a = ColumnSchema.model_validate({"name": "a", "description": "x"})
    b = ColumnSchema.model_validate({"name": "b", "description": "y"})
    assert a.model_fields_set is b.model_fields_set  # one set per distinct set of names
    c = a.model_copy(update={"data_type": "int"})
    assert c.model_fields_set == {"name", "description", "data_type"}
    assert a.model_fields_set == b.model_fields_set == {"name", "description"}
    with pytest.raises(pydantic.ValidationError):  # frozen: nothing adds to the shared set
        a.data_type = "int"  # type: ignore[misc]
    assert b.model_fields_set == {"name", "description"}


def test_shared_field_sets_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from metricql.project import schema

    monkeypatch.setattr(schema, "_FIELD_SETS", {})
    monkeypatch.setattr(schema, "_FIELD_SETS_KEPT", 2)
    made = [schema.ColumnSchema.model_validate({"name": "c", f"extra_{i}": i}) for i in range(5)]
    assert len(schema._FIELD_SETS) == 2  # hostile extra keys cannot grow it without end
    assert [c.model_fields_set for c in made] == [{"name", f"extra_{i}"} for i in range(5)]
