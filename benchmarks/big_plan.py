"""A 100,000-lot plan: how long creating it takes, and how long each pass of the plan driver takes.

Targets (issue "the service, hardened", item 14, on PostgreSQL): create < 5 s, a pass < 50 ms while
the plan runs. Two figures for a pass: what the service logs for each pass inside the api-server
("driver pass: … ms", wall time in a process that also serves the running tasks' execution API),
and the same pass run in this quiet process against the same database. Create is the wall time of
``POST /plans`` as a client sees it.
Then the cost of reading (``GET /plans/{plan}``, a page of lots) and of cancelling the whole plan.

    python benchmarks/big_plan.py [--postgres URL] [--lots 100000] [--seconds 60]
"""

from __future__ import annotations

import argparse
import os
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


def pass_in_process(env: dict[str, str], passes: int = 20) -> list[float]:
    """The driver's pass over the active plans, run here against the same database: its own cost,
    without the api-server's other work (it also serves every running task's execution API calls)."""
    os.environ.update(env)
    from airflow import settings
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from airflow_backfill_provider.service.advance import advance
    from airflow_backfill_provider.service.locking import lock_rows
    from airflow_backfill_provider.service.tables import PlanRow

    settings.configure_orm()
    times = []
    for _ in range(passes + 1):
        with create_session() as session:
            began = time.perf_counter()
            plans = lock_rows(select(PlanRow).where(PlanRow.state == "running"), session, skip_locked=True)
            advance(plans, session)
            session.commit()
            times.append((time.perf_counter() - began) * 1000)
        time.sleep(0.5)
    return times[1:]  # the first pass warms this process's caches


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
        own = pass_in_process(af.env)
        rows.append(
            (
                "the same pass in a quiet process (20 passes)",
                f"p50 {percentile(own, 0.5):.1f} ms, p95 {percentile(own, 0.95):.1f} ms",
            )
        )
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
