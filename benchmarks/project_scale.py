"""Load time and peak memory of generated dbt projects, each in a cold process (issues 7, 12).

Run: python benchmarks/project_scale.py [--sizes 100,1000,10000] [--repeats 3]
                                         [--large-repeats 1] [--cache] [--eager] [--profile]
                                         [--keep DIR]

For each size N it writes a dbt project of N models (one YAML file per model, 100 files per
folder) into a temp dir, then runs `import metricql; metricql.load_project(dir)` in a fresh
interpreter. Each model has 30 columns: a primary key, three foreign keys joined many-to-one
to other models, a date (default time intervals), a timestamp (explicit intervals), 12 strings
(two with `sql:` snippets) and 12 numbers; 13 metrics on columns (sum, average, max,
count_distinct, one with a filter) and 2 model-level number metrics that reference others.
Rows: `cold load` (cache=False: lazy explores, every one validated), `--eager` adds the eager
build kept at load, `--cache` adds the first load that writes `target/metricql/` and loads
from it. Prints the wall time of the whole subprocess (interpreter start, imports, load,
building the first explore, exit; issue 12's targets: 1 s cold and 0.3 s cached at 1,000
models, 10 s and 2 s at 10,000; the note gives import and in-process load apart) and the
child's peak RSS (target ≤ 1 GiB at 10,000). `--no-gc` switches the cyclic GC off in the child.
`--profile` prints a cProfile (top 25, cumulative) of the cold load of the largest size and
tracemalloc's view of the memory it holds after, by file.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from _bench import CHILD_RSS, Row, machine, median, p95, print_table, run_child

TARGET_S = {1_000: 1.0, 10_000: 10.0}  # issue 12 (issue 7's were 3 s and 30 s)
TARGET_CACHED_S = {1_000: 0.3, 10_000: 2.0}
TARGET_RSS_MIB = {10_000: 1024.0}
JOIN_OFFSETS = (1, 7, 31)

_COLUMN = """      - name: {name}
        description: Column {name} of {model}
        data_type: {data_type}
        meta:
          dimension:
            type: {type}{extra}
"""


def _model(i: int, n: int) -> str:
    name = f"m{i:05d}"
    lines = [
        f"  - name: {name}",
        f"    description: Generated model {i} of {n}",
        "    meta:",
        f"      label: Model {i}",
        "      primary_key: id",
        "      joins:",
    ]
    for k, offset in enumerate(JOIN_OFFSETS):
        other = f"m{(i + offset) % n:05d}"
        lines += [
            f"        - join: {other}",
            f"          sql_on: ${{{name}.fk_{k}}} = ${{{other}.id}}",
            "          relationship: many-to-one",
        ]
    lines += [
        "      metrics:",
        "        average_n01:",
        "          type: number",
        "          sql: ${n01_sum} / NULLIF(${id_count}, 0)",
        "        filtered_share:",
        "          type: number",
        "          sql: 1.0 * ${n02_filtered_sum} / NULLIF(${n01_sum}, 0)",
        "    columns:",
    ]
    cols = [
        _COLUMN.format(
            name="id",
            model=name,
            data_type="bigint",
            type="number",
            extra="\n          metrics:\n            id_count:\n              type: count_distinct",
        )
    ]
    for k in range(len(JOIN_OFFSETS)):
        cols.append(
            _COLUMN.format(
                name=f"fk_{k}",
                model=name,
                data_type="bigint",
                type="number",
                extra="\n            hidden: true",
            )
        )
    cols.append(
        _COLUMN.format(name="created_date", model=name, data_type="date", type="date", extra="")
    )
    cols.append(
        _COLUMN.format(
            name="updated_at",
            model=name,
            data_type="timestamp",
            type="timestamp",
            extra="\n            time_intervals: [RAW, HOUR, DAY, MONTH]",
        )
    )
    for s in range(1, 13):
        extra = ""
        if s == 11:
            extra = "\n            sql: UPPER(${TABLE}.s01)"
        elif s == 12:
            extra = "\n            sql: ${TABLE}.s02 || '-' || ${TABLE}.s03"
        cols.append(
            _COLUMN.format(
                name=f"s{s:02d}", model=name, data_type="varchar", type="string", extra=extra
            )
        )
    kinds = (
        "sum",
        "average",
        "max",
        "sum",
        "average",
        "max",
        "count_distinct",
        "sum",
        "sum",
        "average",
        "max",
    )
    for v in range(1, 13):
        extra = ""
        if v <= len(kinds):
            extra = f"\n          metrics:\n            n{v:02d}_{kinds[v - 1]}:\n"
            extra += f"              type: {kinds[v - 1]}"
        if v == 2:
            extra += (
                "\n            n02_filtered_sum:\n              type: sum"
                "\n              filters:\n                - s01: 'a'"
            )
        cols.append(
            _COLUMN.format(
                name=f"n{v:02d}", model=name, data_type="double", type="number", extra=extra
            )
        )
    return "\n".join(lines) + "\n" + "".join(cols)


def write_project(root: Path, n: int) -> Path:
    """Write an N-model dbt project under `root` (fast: plain string templates)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text(
        f"name: scale_{n}\nversion: '1.0'\nconfig-version: 2\nprofile: scale\n"
        "model-paths: [models]\n"
    )
    (root / "profiles.yml").write_text(
        "scale:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        "      path: ':memory:'\n      schema: main\n"
    )
    for i in range(n):
        folder = root / "models" / f"g{i // 100:03d}"
        if i % 100 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        (folder / f"m{i:05d}.yml").write_text(f"version: 2\nmodels:\n{_model(i, n)}")
    return root


MODES = {  # row label → load_project keyword arguments
    "cold load": "cache=False",
    "eager load": "cache=False, eager=True",
    "first load (writes cache)": "",
    "from cache": "",
}


def _child_code(root: Path, kwargs: str, profile: bool = False, no_gc: bool = False) -> str:
    load = f"metricql.load_project({str(root)!r}{', ' if kwargs else ''}{kwargs})"
    if profile:
        load = (
            "import cProfile, pstats, tracemalloc; tracemalloc.start(); "
            "_p = cProfile.Profile(); _p.enable(); "
            f"project = {load}; _p.disable(); "
            "pstats.Stats(_p).sort_stats('cumulative').print_stats(25); "
            "_s = tracemalloc.take_snapshot(); tracemalloc.stop(); "
            "print('## tracemalloc: memory held after the load, by file'); "
            "[print(_x) for _x in _s.statistics('filename')[:12]]"
        )
    else:
        load = f"project = {load}"
    return "\n".join(
        [
            "import time, json, gc",
            "gc.disable()" if no_gc else "",
            "t0 = time.perf_counter()",
            "import metricql",
            "t1 = time.perf_counter()",
            load,
            "t2 = time.perf_counter()",
            "_first = next(iter(project.explores)); project.explore(_first)",
            "t3 = time.perf_counter()",
            CHILD_RSS,
            "print(json.dumps({'import_s': t1 - t0, 'load_s': t2 - t1, 'first_s': t3 - t2, "
            "'explores': len(project.explores), 'maxrss_kib': _rss}))",
        ]
    )


def _rows(n: int, label: str, runs: list[dict[str, float]]) -> tuple[Row, Row]:
    walls = [r["wall_s"] for r in runs]
    load = median([r["load_s"] for r in runs])
    note = (
        f"{len(runs)} runs; import {median([r['import_s'] for r in runs]):.2f} s + "
        f"load {load:.3f} s; first explore {1000 * median([r['first_s'] for r in runs]):.0f} ms; "
        f"{int(runs[0]['explores'])} explores"
    )
    cached = label == "from cache"
    targets = TARGET_CACHED_S if cached else TARGET_S if label != "eager load" else {}
    time_row = Row(f"{n} models: {label}", median(walls), p95(walls), "s", targets.get(n), note)
    rss = [r["peak_rss_mib"] for r in runs]
    rss_row = Row(
        f"{n} models: {label}", median(rss), max(rss), "MiB", TARGET_RSS_MIB.get(n), note=""
    )
    return time_row, rss_row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="comma-separated model counts")
    parser.add_argument("--repeats", type=int, default=3, help="cold runs per size < 5000")
    parser.add_argument("--large-repeats", type=int, default=1, help="cold runs per size ≥ 5000")
    parser.add_argument("--profile", action="store_true", help="cProfile the largest load")
    parser.add_argument(
        "--cache", action="store_true", help="add rows: first load writing the cache, then from it"
    )
    parser.add_argument("--eager", action="store_true", help="add a row: eager load (no cache)")
    parser.add_argument(
        "--no-gc", action="store_true", help="diagnostic: cyclic GC off in the loading child"
    )
    parser.add_argument("--keep", type=Path, help="write projects under this dir and keep them")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if min(sizes) < 2 * max(JOIN_OFFSETS):
        raise SystemExit(f"sizes must be ≥ {2 * max(JOIN_OFFSETS)} (joins go to model i+31)")
    print(machine())
    modes = ["cold load"] + (["eager load"] if args.eager else [])
    modes += ["first load (writes cache)", "from cache"] if args.cache else []

    base = args.keep or Path(tempfile.mkdtemp(prefix="metricql-scale-"))
    time_rows: list[Row] = []
    rss_rows: list[Row] = []
    profile_text = ""
    try:
        for n in sizes:
            start = time.perf_counter()
            root = write_project(base / f"p{n}", n)
            shutil.rmtree(root / "target", ignore_errors=True)
            written = time.perf_counter() - start
            mib = sum(p.stat().st_size for p in root.rglob("*.yml")) / 2**20
            print(f"generated {n} models ({mib:.1f} MiB of YAML) in {written:.1f} s", flush=True)
            repeats = args.repeats if n < 5000 else args.large_repeats
            for mode in modes:
                count = 1 if mode.startswith("first") else repeats
                runs = [
                    run_child(_child_code(root, MODES[mode], no_gc=args.no_gc))
                    for _ in range(count)
                ]
                time_row, rss_row = _rows(n, mode, runs)
                time_rows.append(time_row)
                rss_rows.append(rss_row)
                print(f"  {time_row.name}: {time_row.note}", flush=True)
            if args.profile and n == max(sizes):
                code = _child_code(root, MODES["cold load"], profile=True)
                profile_text = str(run_child(code).get("_stdout", ""))
            if not args.keep:
                shutil.rmtree(root, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    gc_note = " [GC OFF in the child]" if args.no_gc else ""
    print_table(
        f"project load, cold subprocess (wall: start + import + load + exit){gc_note}", time_rows
    )
    print_table("peak RSS of the loading subprocess (p95 column: max)", rss_rows)
    if profile_text:
        print(f"\n## cProfile: load_project of {max(sizes)} models (cache=False), top 25")
        print(profile_text)


if __name__ == "__main__":
    main()
