"""A 100,000-lot plan: how long creating it takes, and how long each pass of the plan driver takes.

Targets (issue "the service, hardened", item 14, on PostgreSQL): create < 5 s, a pass < 50 ms while
the plan runs. The pass time is what the service itself logs for each pass ("driver pass: … ms"),
read from the api-server's log; create is the wall time of ``POST /plans`` as a client sees it.
Then the cost of reading (``GET /plans/{plan}``, a page of lots) and of cancelling the whole plan.

    python benchmarks/big_plan.py [--postgres URL] [--lots 100000] [--seconds 60]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.harness import running_airflow

DAGS = Path(__file__).parent / "dags"
API = "/backfill/api/v1"
PASS = re.compile(r"driver pass: (\d+) plans advanced, (\d+) active, ([0-9.]+) ms")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", help="SQLAlchemy URL of an empty PostgreSQL database (default: SQLite)")
    parser.add_argument("--lots", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=60, help="how long to watch the driver's passes")
    args = parser.parse_args()
    start = "2000-01-01"
    end_hour = 946_684_800 + args.lots * 3600  # 2000-01-01 + lots hours
    end = time.strftime("%Y-%m-%dT%H:00:00", time.gmtime(end_hour))
    rows: list[tuple[str, str]] = []
    with running_airflow(args.postgres, dags_folder=DAGS) as af:
        af.wait_for_dags("bench_one_task", "backfill_plan_controller")
        client = af.client()
        body = {
            "dag_id": "bench_one_task",
            "name": "big",
            "lot": "1h",
            "parallelism": 4,
            "ranges": [{"start": start, "end": end}],
        }
        began = time.perf_counter()
        response = client.post(f"{af.url}{API}/plans", json=body, timeout=600)
        created = time.perf_counter() - began
        response.raise_for_status()
        total = response.json()["plan"]["total_lots"]
        rows.append((f"create a {total:,}-lot plan (POST /plans)", f"{created:.2f} s"))
        log = af.home / "api-server.log"
        offset = log.stat().st_size
        time.sleep(args.seconds)
        text = log.read_text(errors="replace")[offset:]
        passes = [float(m.group(3)) for m in PASS.finditer(text)]
        plan = client.get(f"{af.url}{API}/plans/big").json()
        rows.append(
            (
                f"driver pass with the plan active ({len(passes)} passes in {args.seconds:.0f} s)",
                f"p50 {percentile(passes, 0.5):.1f} ms, p95 {percentile(passes, 0.95):.1f} ms, max {max(passes, default=float('nan')):.1f} ms",
            )
        )
        rows.append(("lots done meanwhile", str(plan["counts"]["success"])))
        reads = []
        for _ in range(20):
            t = time.perf_counter()
            client.get(f"{af.url}{API}/plans/big").raise_for_status()
            client.get(
                f"{af.url}{API}/plans/big/lots", params={"limit": 100, "offset": total - 100}
            ).raise_for_status()
            reads.append((time.perf_counter() - t) * 1000 / 2)
        rows.append(
            (
                "GET plan / a page of lots, mean of both",
                f"p50 {statistics.median(reads):.1f} ms, p95 {percentile(reads, 0.95):.1f} ms",
            )
        )
        t = time.perf_counter()
        cancelled = client.post(f"{af.url}{API}/plans/big/cancel", timeout=600).json()
        rows.append(
            (
                "cancel the plan",
                f"{time.perf_counter() - t:.2f} s ({cancelled['counts']['cancelled']:,} lots cancelled)",
            )
        )
    width = max(len(r[0]) for r in rows)
    print(f"\n{'backend':<{width}}  {'PostgreSQL' if args.postgres else 'SQLite'}")
    for what, figure in rows:
        print(f"{what:<{width}}  {figure}")


if __name__ == "__main__":
    main()
