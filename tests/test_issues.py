"""Warnings and errors share one `Where`; warnings are `Issue`s with a code, hint and level."""

from __future__ import annotations

from pathlib import Path

import metricql as mq
from metricql.errors import Issue, Where
from tests.helpers import make_project

BAD_INTERVAL = """
models:
  - name: t
    columns:
      - name: day
        meta: {dimension: {type: date, time_intervals: [DAY, FORTNIGHT]}}
"""


def test_a_load_warning_is_an_issue_with_file_and_line(tmp_path: Path) -> None:
    explore = mq.load_project(make_project(tmp_path, {"models": BAD_INTERVAL})).explore("t")
    (issue,) = explore.issues
    assert issue.code == "unknown_time_interval" and issue.level == "warning"
    assert issue.where.file == str(tmp_path / "models" / "models.yml")
    assert (issue.where.model, issue.where.field, issue.where.line) == ("t", "day", 5)
    assert "FORTNIGHT" in issue.message and "DAY" in (issue.hint or "")
    assert explore.warnings == (f"{issue.where.file}:5: {issue.message}",)
    assert explore.dimensions.keys() >= {"t_day_day"}  # the known interval is kept
    assert issue.to_dict() == {
        "code": "unknown_time_interval",
        "level": "warning",
        "message": issue.message,
        "hint": issue.hint,
        "file": issue.where.file,
        "line": 5,
        "model": "t",
        "field": "day",
    }


def test_errors_and_issues_share_where() -> None:
    error = mq.CompileError("it broke", hint="fix it", file="m.yml", line=3, model="m", x=1)
    assert error.where == Where(file="m.yml", line=3, model="m")
    assert str(error) == "m.yml:3: it broke\n  hint: fix it"
    issue = Issue.of(error)
    assert (issue.code, issue.level, str(issue)) == ("compile_error", "error", "m.yml:3: it broke")
    assert str(Issue("c", "no file here")) == "no file here"
