"""Tail latency of fresh compiles in a loaded 1,000-model process (issue 12).

Generates the project_scale.py project (N models, each joined many-to-one to 3 others) and,
in a fresh interpreter per mode, loads it and times 10,000 fresh compiles (`cache_size=0`
twin, so no cache answers) of queries spread over all explores: 2 dimensions of the base
model, 1 of a joined model, 2 metrics and a filter, after one warm-up compile per explore
(explores are built on first use, and the first compile of an explore fills its field
caches: ~10 % of 10,000 compiles over 1,000 explores, which would otherwise be the p99).
Modes: `load_project(freeze=True)` (the default for projects this large: `gc.freeze()` after
loading), `freeze=False` (the loaded project stays in the cyclic GC's generations, as before
issue 12), and freeze=True without the warm-up (first compiles build their explore: the
cold-start tail). Prints p50, p99, max, mean and how many full (generation 2) collections
ran during the compiles.

Target (issue 12): p99 ≤ 3 × p50 in a loaded 1,000-model process.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from _bench import Row, machine, print_table, run_child
from project_scale import write_project

TARGET_P99_OVER_P50 = 3.0

_CHILD = """
import gc, json, time
import metricql as mq
project = mq.load_project({root!r}, freeze={freeze})
fresh = mq.Project(project._schema, project.explores, cache_size=0)
names = sorted(project.explores)
n = len(names)
def query(i):
    name = names[i % n]
    other = names[(i + 1) % n]
    return mq.MetricQuery(
        explore_name=name,
        dimensions=[f"{{name}}_s01", f"{{name}}_created_date_month", f"{{other}}_s02"],
        metrics=[f"{{name}}_n01_sum", f"{{name}}_id_count"],
        filters={{"dimensions": {{"id": "f", "and": [{{"id": "r",
            "target": {{"fieldId": f"{{name}}_s03"}}, "operator": "equals",
            "values": [f"v{{i}}"]}}]}}}},
        limit=100,
    )
# every explore once: its first compile builds the (lazy) explore and fills its caches
warm = max(200, n) if {warm} else 0
queries = [query(i) for i in range({count} + warm)]
for q in queries[:warm]:
    fresh.compile(q)
before = gc.get_stats()[2]["collections"]
times = []
for q in queries[warm:]:
    t0 = time.perf_counter()
    fresh.compile(q)
    times.append(time.perf_counter() - t0)
full = gc.get_stats()[2]["collections"] - before
t0 = time.perf_counter()
gc.collect()  # what one full collection costs now: the pause a compile may pay
collect = time.perf_counter() - t0
times.sort()
pick = lambda f: times[min(len(times) - 1, int(f * len(times)))]
print(json.dumps({{"p50": pick(0.5), "p99": pick(0.99), "max": times[-1],
                  "mean": sum(times) / len(times), "full_gcs": full, "collect": collect,
                  "frozen": gc.get_freeze_count()}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--compiles", type=int, default=10_000)
    args = parser.parse_args()
    print(machine())
    tmp = Path(tempfile.mkdtemp(prefix="mq_tail_"))
    try:
        root = write_project(tmp / "project", args.models)
        rows = []
        for freeze, warm in ((True, True), (False, True), (True, False)):
            code = _CHILD.format(root=str(root), freeze=freeze, count=args.compiles, warm=warm)
            out = run_child(code, timeout=3600)
            ratio = out["p99"] / out["p50"]
            note = (
                f"p99 {out['p99'] * 1e3:.2f} ms, max {out['max'] * 1e3:.1f} ms, mean "
                f"{out['mean'] * 1e3:.2f} ms; {out['full_gcs']:.0f} full GCs, one full "
                f"gc.collect() {out['collect'] * 1e3:.0f} ms; "
                f"{out['frozen']:.0f} objects frozen"
            )
            mode = f"freeze={freeze}{'' if warm else ', no warm-up'}"
            label = f"{args.models} models, {mode}: p99 ÷ p50"
            rows.append(Row(label, ratio, None, "x", TARGET_P99_OVER_P50, note))
            rows.append(Row(f"  p50 fresh compile ({mode})", out["p50"] * 1e3, None, "ms"))
        print_table(f"{args.compiles} fresh compiles in a loaded process", rows)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
