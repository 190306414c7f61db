"""The sample project with timezone buckets on (`vars.metricql.timezone_buckets`) and one
timestamp that opts out (`customers.created_at: convert_timezone: false`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import metricql as mq
from tests.conftest import SAMPLE

ZONE = "America/New_York"


def timezone_project(root: Path) -> mq.Project:
    """A copy of the sample project under `root` with timezone buckets on."""
    target = root / "shop"
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns("*.duckdb", "target"))
    project_file = target / "dbt_project.yml"
    assert "vars:" not in project_file.read_text()
    project_file.write_text(
        project_file.read_text() + "\nvars:\n  metricql:\n    timezone_buckets: true\n"
    )
    customers = target / "models" / "customers.yml"
    text = customers.read_text()
    marker = "            type: timestamp\n            time_intervals: default\n"
    assert marker in text
    customers.write_text(text.replace(marker, marker + "            convert_timezone: false\n"))
    return mq.load_project(target)
