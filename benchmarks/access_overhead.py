"""What the issue-11 checks cost a compile: a trusted caller vs an end user (access closure,
custom-SQL policy, limits), on the sample project with custom SQL, a bin and a calculation.

Run: python benchmarks/access_overhead.py [--iterations N]

Fresh compiles (the project's compile cache off), interleaved so drift hits both alike. The
user has the custom-SQL permission, so both compile the same SQL; the user's compile also
parses each snippet once more for the policy. No target: the ratio is what the checks cost.
"""

from __future__ import annotations

import argparse

from _bench import SAMPLE, Row, interleaved, machine, median, p95, print_table, uncached

import metricql as mq

QUERY = {
    "exploreName": "orders",
    "dimensions": ["orders_status", "doubled"],
    "metrics": ["orders_order_count", "orders_big"],
    "customDimensions": [
        {"id": "doubled", "name": "doubled", "table": "orders", "type": "sql",
         "sql": "upper(${orders.status}) || '-' || CAST(${orders.order_id} % 2 AS TEXT)"},
        {"id": "bin", "name": "bin", "table": "orders", "type": "bin",
         "dimensionId": "orders_order_id", "binType": "fixed_width", "binWidth": 10},
    ],
    "additionalMetrics": [
        {"table": "orders", "name": "big", "type": "max", "sql": "${orders.order_id} * 2"}
    ],
    "tableCalculations": [
        {"name": "share", "sql": "${orders.order_count} / total(${orders.order_count})"}
    ],
    "sorts": [{"fieldId": "orders_order_count", "descending": True}],
    "limit": 500,
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=2000)
    args = parser.parse_args()
    project = uncached(mq.load_project(SAMPLE))
    query = mq.parse_query(QUERY)
    user = mq.UserContext(attributes={"region": "EU"}, email="a@b.c", custom_sql=True)
    trusted, as_user = (lambda: project.compile(query)), (lambda: project.compile(query, user=user))
    assert trusted().sql == as_user().sql  # same SQL: only the checks differ
    for _ in range(100):
        trusted(), as_user()
    got = interleaved([trusted, as_user], args.iterations)
    base = median(got[0])
    rows = [
        Row("trusted caller (user=None)", base * 1e3, p95(got[0]) * 1e3, "ms"),
        Row(
            "end user (closure + policy + limits)",
            median(got[1]) * 1e3,
            p95(got[1]) * 1e3,
            "ms",
            note=f"{median(got[1]) / base:.2f} × trusted",
        ),
    ]
    print(machine())
    print_table("compile with and without a user context", rows)


if __name__ == "__main__":
    main()
