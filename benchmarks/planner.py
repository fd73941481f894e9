"""Planner speed and memory: 10 years of hourly lots (~87,600) for a DAG of 50 tasks.

Target: under 1 s and under 200 MB. Prints one line per case; time and memory are measured in
separate runs because tracemalloc slows Python down several times.

    python benchmarks/planner.py
"""

from __future__ import annotations

import datetime as dt
import gc
import resource
import time
import tracemalloc

from airflow.timetables.interval import CronDataIntervalTimetable
from airflow.timetables.trigger import CronTriggerTimetable

from airflow_backfill_provider import BackfillPlan
from airflow_backfill_provider.plan.dag import DagDescription
from airflow_backfill_provider.plan.planner import plan_backfill

TASKS = {f"task_{i:02d}": frozenset({f"task_{i - 1:02d}"}) if i else frozenset() for i in range(50)}
RANGE = [{"start": "2015-01-01", "end": "2024-12-31"}]
CASES = [
    ("lot 1h, UTC", "UTC", CronTriggerTimetable("@daily", timezone="UTC"), "1h"),
    (
        "DAG schedule 0 * * * * (data intervals), UTC",
        "UTC",
        CronDataIntervalTimetable("0 * * * *", "UTC"),
        None,
    ),
    (
        "DAG schedule @hourly (cron trigger), Europe/Paris",
        "Europe/Paris",
        CronTriggerTimetable("@hourly", timezone="Europe/Paris"),
        None,
    ),
    (
        "DAG schedule 0 * * * *, Europe/Paris, exclude task_1*",
        "Europe/Paris",
        CronDataIntervalTimetable("0 * * * *", "Europe/Paris"),
        None,
    ),
]


def main() -> None:
    now = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    print(f"{'case':58} {'lots':>7} {'best s':>8} {'peak MB':>8}")
    for label, tz, timetable, lot in CASES:
        dag = DagDescription("bench", tz, timetable, TASKS)
        exclude = ["task_1*"] if "exclude" in label else []
        plan = BackfillPlan(dag_id="bench", ranges=RANGE, lot=lot, tasks={"exclude": exclude})
        best = float("inf")
        for _ in range(3):
            gc.collect()
            started = time.perf_counter()
            result = plan_backfill(plan, {"bench": dag}, now=now)
            best = min(best, time.perf_counter() - started)
        del result
        gc.collect()
        tracemalloc.start()
        result = plan_backfill(plan, {"bench": dag}, now=now)
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        print(f"{label:58} {len(result.lots):>7} {best:>8.3f} {peak:>8.1f}")
    print(
        f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
        "(includes importing Airflow)"
    )
    print("target: under 1 s and under 200 MB per plan")


if __name__ == "__main__":
    main()
