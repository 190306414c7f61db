"""The README's Serve section works as pasted: its SDK snippet against a server started as
its command says (same token and project uuid; only the port differs)."""

from __future__ import annotations

import contextlib
import io
import re

import pytest

import metricql as mq
from tests.conftest import ROOT, SAMPLE
from tests.server.conftest import running

pytest.importorskip("lightdash", reason="the official Lightdash SDK is not installed")
pytest.importorskip("pandas", reason="the SDK's DataFrames need pandas")

from metricql.server import create_app


def _serve_section() -> str:
    text = (ROOT / "README.md").read_text()
    return text.split("## Serve", 1)[1].split("\n## ", 1)[0]


def test_readme_command_and_sdk_snippet_agree_and_run() -> None:
    section = _serve_section()
    command = re.search(r"metricql serve (\S+) --token (\S+) --project-uuid (\S+)", section)
    assert command is not None
    folder, token, uuid = command.groups()
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert f'access_token="{token}"' in snippet and f'project_uuid="{uuid}"' in snippet
    assert (ROOT / folder).resolve() == SAMPLE
    auth = {token: {"email": "local", "custom_sql": True, "manage": True}}
    with running(create_app({uuid: mq.load_project(SAMPLE)}, auth=auth)) as (url, _):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(snippet.replace("http://127.0.0.1:8080", url), {})
    printed = out.getvalue()
    assert "['customers', 'orders', 'payments']" in printed
    assert "SELECT" in printed and "Order count" in printed and "completed" in printed
