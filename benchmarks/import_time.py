"""Cold `import metricql` time, each run in a fresh interpreter (issue 7: target ≤ 300 ms).

Run: python benchmarks/import_time.py [--runs 9] [--top 12]

Prints the median and p95 of the in-process time of `import metricql` (the interpreter's own
start-up excluded; the whole subprocess's wall time is in the note), then one
`python -X importtime` run's heaviest imports by cumulative time, to show where the time goes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from _bench import SRC, Row, machine, median, p95, print_table, run_child

TARGET_MS = 300.0

CHILD = """
import time, json
t0 = time.perf_counter()
import metricql
t1 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "modules": len(__import__("sys").modules)}))
"""


def heaviest_imports(top: int) -> list[tuple[int, int, str]]:
    """(cumulative µs, depth, module) of the `top` slowest imports under `import metricql`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import metricql"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        fields = line[len("import time:") :].split("|")
        if len(fields) != 3:
            continue
        cumulative, name = fields[1], fields[2].rstrip()
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        found.append((int(cumulative), depth, name.strip()))
    return sorted(found, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="cold subprocesses")
    parser.add_argument("--top", type=int, default=12, help="heaviest imports to list")
    args = parser.parse_args()
    print(machine())

    runs = [run_child(CHILD) for _ in range(args.runs)]
    imports = [r["import_s"] * 1e3 for r in runs]
    walls = [r["wall_s"] * 1e3 for r in runs]
    note = (
        f"{args.runs} runs; whole subprocess {median(walls):.0f} ms median; "
        f"{int(runs[0]['modules'])} modules loaded"
    )
    print_table(
        "import metricql, cold subprocess",
        [Row("import metricql", median(imports), p95(imports), "ms", TARGET_MS, note)],
    )
    print("\n## heaviest imports (python -X importtime, one run; depth 0 = imported by -c)")
    print(f"{'cumulative ms':>13}  depth  module")
    for cumulative, depth, name in heaviest_imports(args.top):
        print(f"{cumulative / 1e3:>13.1f}  {depth:>5}  {name}")


if __name__ == "__main__":
    main()
