"""`metricql serve` as a process: start-up lines, SIGHUP and --reload without dropped requests,
graceful SIGTERM, refusal to start without tokens."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SAMPLE
from tests.server.conftest import free_port

httpx = pytest.importorskip("httpx")
UUID = "0b7f5a9e-1c2d-4e3f-8a9b-0c1d2e3f4a5b"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    root = tmp_path / "jaffle"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("*.duckdb*", "target"))
    (tmp_path / "tokens.yml").write_text(
        "tokens:\n  tok-1: {email: ana@example.com, attributes: {region: EU}, custom_sql: false}\n"
    )
    return root


def _start(copy: Path, *extra: str) -> tuple[subprocess.Popen[str], str, list[str]]:
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "metricql",
        "serve",
        str(copy),
        "--port",
        str(port),
        "--tokens",
        str(copy.parent / "tokens.yml"),
        *extra,
    ]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 60
    while not any(line.startswith("listening on") for line in lines):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise AssertionError("server did not start:\n" + "\n".join(lines))
        time.sleep(0.05)
    return proc, f"http://127.0.0.1:{port}", lines


@pytest.fixture
def stop() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def _label(url: str) -> str:
    headers = {"Authorization": "ApiKey tok-1"}
    explores = httpx.get(f"{url}/api/v1/projects/{UUID}/explores", headers=headers).json()
    return str(next(e["label"] for e in explores["results"] if e["name"] == "orders"))


def _relabel(copy: Path, label: str) -> None:
    yml = copy / "models" / "orders.yml"
    text = yml.read_text()
    current = text.split("      label: ", 1)[1].split("\n", 1)[0]
    yml.write_text(text.replace(f"      label: {current}\n", f"      label: {label}\n", 1))


def _hammer(url: str, stop_at: threading.Event, codes: list[int]) -> None:
    headers = {"Authorization": "ApiKey tok-1"}
    body = {"exploreName": "orders", "metrics": ["orders_order_count"], "limit": 10}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        while not stop_at.is_set():
            path = f"/api/v1/projects/{UUID}/explores/orders/runQuery"
            codes.append(client.post(path, json=body).status_code)


def test_sighup_reloads_without_dropping_requests(copy: Path, stop: list[Any]) -> None:
    proc, url, lines = _start(copy, "--project-uuid", UUID)
    stop.append(proc)
    assert f"serving project 'jaffle_shop' (3 explores) as {UUID}" in lines
    assert _label(url) == "Orders"
    done, codes = threading.Event(), []
    workers = [threading.Thread(target=_hammer, args=(url, done, codes)) for _ in range(4)]
    for w in workers:
        w.start()
    _relabel(copy, "Orders v2")
    os.kill(proc.pid, signal.SIGHUP)
    deadline = time.monotonic() + 30
    while _label(url) != "Orders v2":
        assert time.monotonic() < deadline, "\n".join(lines)
        time.sleep(0.1)
    time.sleep(0.3)
    done.set()
    for w in workers:
        w.join()
    assert codes and set(codes) == {200}, codes
    assert any('"status": 200' in line and '"user": "ana@example.com"' in line for line in lines)
    proc.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal: the exit status says SIGTERM
    assert proc.wait(timeout=40) in (0, -signal.SIGTERM)
    deadline = time.monotonic() + 10  # the reader thread may still be catching up
    while not any("metricql server stopped" in line for line in lines):
        assert time.monotonic() < deadline, lines
        time.sleep(0.05)


def test_reload_flag_watches_the_project_files(copy: Path, stop: list[Any]) -> None:
    proc, url, lines = _start(copy, "--project-uuid", UUID, "--reload", "--no-access-log")
    stop.append(proc)
    _relabel(copy, "Watched orders")
    deadline = time.monotonic() + 30
    while _label(url) != "Watched orders":
        assert time.monotonic() < deadline, "\n".join(lines)
        time.sleep(0.2)
    assert not any(line.startswith("{") for line in lines)  # no access log
    _relabel(copy, "Broken: [")  # a broken edit keeps the last good project serving
    deadline = time.monotonic() + 30
    while not any("reload of 'jaffle_shop' failed" in line for line in lines):
        assert time.monotonic() < deadline, "\n".join(lines)
        time.sleep(0.2)
    assert _label(url) == "Watched orders"


def test_serve_refuses_to_start_without_tokens(copy: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "metricql", "serve", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--tokens" in done.stderr
