"""`options_from_dimension` of a parameter names a model and dimension that must exist: a
typo is a load warning naming it, with a suggestion (Lightdash would just offer no options)."""

from __future__ import annotations

from pathlib import Path

import pytest

import metricql as mq
from tests.helpers import make_project

MODELS = """
models:
  - name: customers
    meta:
      primary_key: customer_id
      parameters:
        segment:
          options_from_dimension: {model: customers, dimension: segmnt}
    columns:
      - name: customer_id
        meta: {dimension: {type: number}}
      - name: country
        meta:
          dimension: {type: string}
          additional_dimensions:
            country_code: {type: string, sql: "UPPER(LEFT(${country}, 2))"}
      - name: segment
        meta: {dimension: {type: string}}
      - name: signed_up
        meta: {dimension: {type: date}}
"""

CONFIG = """
parameters:
  by_country: {options_from_dimension: {model: customers, dimension: country}}
  by_code: {options_from_dimension: {model: customers, dimension: country_code}}
  by_month: {options_from_dimension: {model: customers, dimension: signed_up_month}}
  wrong_model: {options_from_dimension: {model: customer, dimension: country}}
  wrong_dimension: {options_from_dimension: {model: customers, dimension: contry}}
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> mq.Project:
    root = make_project(tmp_path_factory.mktemp("option_sources"), {"customers": MODELS})
    (Path(root) / "lightdash.config.yml").write_text(CONFIG)
    return mq.load_project(root, cache=False)


def _warnings(project: mq.Project) -> dict[str, mq.Issue]:
    out = {}
    for issue in project.issues:
        if issue.code == "unknown_option_source":
            out[issue.message.split("'")[1]] = issue
    return out


def test_a_misnamed_source_is_a_warning_with_a_suggestion(project: mq.Project) -> None:
    found = _warnings(project)
    assert sorted(found) == ["customers.segment", "wrong_dimension", "wrong_model"]
    assert "model 'customer'" in found["wrong_model"].message
    assert "'customers'" in (found["wrong_model"].hint or "")
    assert "dimension 'contry'" in found["wrong_dimension"].message
    assert "'country'" in (found["wrong_dimension"].hint or "")
    assert "'segment'" in (found["customers.segment"].hint or "")
    assert found["wrong_model"].where.file == "lightdash.config.yml"
    assert str(found["customers.segment"].where.file).endswith("customers.yml")


def test_the_parameters_still_load(project: mq.Project) -> None:
    """A warning, not an error: the parameter still works with the values a query passes."""
    assert project.parameters["wrong_dimension"].options_from_dimension == ("customers", "contry")
    assert project.parameters["customers.segment"].allow_custom_values
