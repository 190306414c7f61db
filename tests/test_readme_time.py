"""The README's "Time grains, date zoom and pivots" snippets run as pasted."""

from __future__ import annotations

import contextlib
import io
import os

import pytest

from tests.conftest import ROOT


def _snippets() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Time grains, date zoom and pivots", 1)[1].split("\n## ", 1)[0]
    return [part.split("```", 1)[0] for part in section.split("```python\n")[1:]]


def test_readme_time_and_pivot_snippets_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    snippets = _snippets()
    assert snippets
    out = io.StringIO()
    scope: dict[str, object] = {}
    with contextlib.redirect_stdout(out):
        for snippet in snippets:
            exec(snippet, scope)
    printed = out.getvalue()
    assert "orders_ordered_at_hour" in printed and "datetime.date(2025, 10, 1)" in printed
    assert "orders_total_revenue_sum_completed" in printed and "'row_index': 1" in printed
    assert os.getcwd() == str(ROOT)


def test_readme_check_command_runs_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    from metricql.cli import main

    monkeypatch.chdir(ROOT)
    text = (ROOT / "README.md").read_text()
    line = next(x for x in text.splitlines() if x.startswith(".venv/bin/metricql check "))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(line.split()[1:]) == 0
    assert "ok: 10 checks hold" in out.getvalue()
