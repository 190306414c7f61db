"""Loading freezes large projects out of the cyclic GC's reach (gc.freeze), on request or by
size, and leaves small ones to it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

import metricql as mq
from metricql import _gc
from tests.helpers import make_project

MODEL = """
models:
  - name: {name}
    columns:
      - name: id
        meta:
          dimension: {{type: number}}
          metrics:
            count: {{type: count}}
"""


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Each test starts and ends with nothing frozen (frozen memory is never freed)."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def _project(root: Path, models: int) -> Path:
    return make_project(root, {f"m{i}": MODEL.format(name=f"m{i}") for i in range(models)})


def test_freeze_true_moves_the_loaded_project_out_of_the_gc(tmp_path: Path, unfrozen: None) -> None:
    project = mq.load_project(_project(tmp_path, 2), freeze=True)
    frozen = gc.get_freeze_count()
    assert frozen > 0
    explore = project.explore("m0")
    assert not any(o is explore for o in gc.get_objects())  # the GC no longer walks it
    query = mq.MetricQuery(explore_name="m0", metrics=["m0_count"])
    assert "COUNT" in project.compile(query).sql


def test_small_projects_stay_with_the_gc_unless_asked(tmp_path: Path, unfrozen: None) -> None:
    mq.load_project(_project(tmp_path, 2))
    assert gc.get_freeze_count() == 0
    mq.load_project(_project(tmp_path, 2), freeze=False)
    assert gc.get_freeze_count() == 0


def test_projects_past_the_threshold_are_frozen_by_default(
    tmp_path: Path, unfrozen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mq.api, "FREEZE_FROM_MODELS", 3)
    mq.load_project(_project(tmp_path / "a", 2))
    assert gc.get_freeze_count() == 0
    mq.load_project(_project(tmp_path / "b", 3))
    assert gc.get_freeze_count() > 0
    assert _gc.FREEZE_FROM_MODELS == 200
