"""The README's Security section runs as pasted."""

from __future__ import annotations

import contextlib
import io
import os

from tests.conftest import ROOT


def test_security_section_snippets_run() -> None:
    section = (ROOT / "README.md").read_text().split("## Security", 1)[1].split("\n## ", 1)[0]
    snippets = [s.split("```", 1)[0] for s in section.split("```python\n")[1:]]
    assert snippets
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out):
            for snippet in snippets:
                exec(f"import metricql as mq\n{snippet}", {})
    finally:
        os.chdir(cwd)
    assert "sql_policy" in out.getvalue()
