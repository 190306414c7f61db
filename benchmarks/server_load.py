"""Load on `metricql serve` (issue 13): many concurrent clients against compileQuery and runQuery.

Run: python benchmarks/server_load.py [--clients 64] [--duration 60] [--routes compile,run]

Starts `metricql serve` on a copy of the sample project (its own DuckDB file, no access log,
one token per client: 64 clients are 64 users, each within the per-user limit) and, per route,
keeps `--clients` asyncio clients (httpx, keep-alive) posting the "typical" query of
compile_latency.py back to back for `--duration` seconds after a short warm-up. Prints per
route: requests, requests/s, p50/p99 latency, errors (non-200 answers and failed requests), and
the server's resident memory sampled every second (start, end, peak, least-squares slope in
MiB/min: flat memory is a slope near 0). The clients run on the same machine as the server:
on 2 shared cores they take a good part of the CPU, so requests/s is a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from _bench import SAMPLE, machine
from compile_latency import TYPICAL

UUID = "5e1d2c3b-4a59-4687-9a1b-2c3d4e5f6a7b"
ROUTES = {
    "compile": f"/api/v1/projects/{UUID}/explores/orders/compileQuery",
    "run": f"/api/v1/projects/{UUID}/explores/orders/runQuery",
}


@dataclass
class Phase:
    """What one route's load phase saw."""

    route: str
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    memory: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MiB)
    seconds: float = 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per route")
    parser.add_argument("--warmup", type=float, default=5.0, help="untimed seconds per route")
    parser.add_argument("--routes", default="compile,run")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory(prefix="metricql-load-") as tmp:
        proc, url = _start(Path(tmp), args.clients)
        try:
            phases = [
                asyncio.run(_phase(url, proc.pid, route, args.clients, args.duration, args.warmup))
                for route in args.routes.split(",")
            ]
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    _report(phases, args.clients)


def _start(tmp: Path, clients: int) -> tuple[subprocess.Popen[str], str]:
    project = tmp / "jaffle_shop"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("*.duckdb*", "target"))
    tokens = tmp / "tokens.yml"
    tokens.write_text(
        "tokens:\n"
        + "".join(f"  client-{i}: {{email: client{i}@example.com}}\n" for i in range(clients))
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "metricql", "serve", str(project), "--port", str(port),
               "--tokens", str(tokens), "--project-uuid", UUID, "--no-access-log"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("listening on"):
            break
    else:
        raise SystemExit("the server did not start")
    threading.Thread(target=_drain, args=(proc,), daemon=True).start()
    return proc, f"http://127.0.0.1:{port}"


def _drain(proc: subprocess.Popen[str]) -> None:
    """Read the server's output so it never blocks on a full pipe."""
    for _ in proc.stdout or ():
        pass


async def _phase(
    url: str, pid: int, route: str, clients: int, duration: float, warmup: float
) -> Phase:
    phase = Phase(route)
    path = ROUTES[route]
    warm_until = time.monotonic() + warmup
    stop_at = warm_until + duration

    async def client(i: int) -> None:
        headers = {"Authorization": f"ApiKey client-{i}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as http:
            while (now := time.monotonic()) < stop_at:
                try:
                    response = await http.post(path, json=TYPICAL)
                    problem = None if response.status_code == 200 else str(response.status_code)
                except httpx.HTTPError as err:
                    problem = type(err).__name__
                if now >= warm_until:
                    phase.latencies.append(time.monotonic() - now)
                    if problem:
                        phase.errors[problem] = phase.errors.get(problem, 0) + 1

    async def sample() -> None:
        while time.monotonic() < stop_at:
            if time.monotonic() >= warm_until:
                phase.memory.append((time.monotonic() - warm_until, _rss_mib(pid)))
            await asyncio.sleep(1.0)

    started = time.monotonic()
    await asyncio.gather(sample(), *(client(i) for i in range(clients)))
    phase.seconds = time.monotonic() - max(started, warm_until)
    return phase


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares MiB per minute."""
    if len(points) < 2:
        return 0.0
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return 60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _report(phases: Sequence[Phase], clients: int) -> None:
    print(f"\n{clients} concurrent clients (one user each), typical query, keep-alive")
    head = f"{'route':<14}{'requests':>9}{'req/s':>9}{'p50':>10}{'p99':>10}{'errors':>8}"
    print(head + f"{'RSS start':>11}{'end':>8}{'peak':>8}{'slope':>13}")
    for p in phases:
        n = len(p.latencies)
        errors = sum(p.errors.values())
        rss = [m for _, m in p.memory] or [float("nan")]
        p50, p99 = (_percentile(p.latencies, q) * 1e3 for q in (0.5, 0.99))
        print(
            f"{p.route + 'Query':<14}{n:>9}{n / p.seconds:>9.1f}{p50:>8.1f}ms{p99:>8.1f}ms"
            f"{errors:>8}{rss[0]:>8.0f}MiB{rss[-1]:>5.0f}MiB{max(rss):>5.0f}MiB"
            f"{_slope(p.memory):>+8.2f}MiB/min"
        )
        if p.errors:
            print(f"  errors: {p.errors}")
        marks = [p.memory[min(len(p.memory) - 1, len(p.memory) * q // 4)] for q in range(5)]
        print("  RSS over the run: " + ", ".join(f"{t:.0f}s {m:.0f}MiB" for t, m in marks))


if __name__ == "__main__":
    main()
