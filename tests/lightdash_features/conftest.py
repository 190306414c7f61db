"""The lightdash_features sample: loaded as a new user would (not strict) over its seeds."""

from __future__ import annotations

import duckdb
import pytest

import metricql as mq
from tests.conftest import ROOT

FEATURES = ROOT / "sample_projects" / "lightdash_features"


@pytest.fixture(scope="package")
def features() -> mq.Project:
    return mq.load_project(FEATURES)


@pytest.fixture(scope="package")
def fduck(features: mq.Project) -> duckdb.DuckDBPyConnection:
    """In-memory DuckDB holding the sample's seeds (from seeds/ sub-folders) in `main`."""
    conn = duckdb.connect()
    features.seed(connection=conn)
    return conn
