"""DAGs of ``benchmarks/scheduler_load.py``: short daily tasks, and one long sleeper.

``bench_one_task`` serves the plans, reads and busy parts; the cost part runs a plan on
``bench_cost_plan`` and Airflow's native backfill on its twin ``bench_cost_native`` (the same
shape), both with a history from 1990 so that 10,000 daily intervals fit before today.
"""

from __future__ import annotations

import time
from typing import Any

import pendulum
from airflow.sdk import DAG, task

for _dag_id, _year in (("bench_one_task", 2020), ("bench_cost_plan", 1990), ("bench_cost_native", 1990)):
    with DAG(
        _dag_id,
        schedule="@daily",
        start_date=pendulum.datetime(_year, 1, 1, tz="UTC"),
        catchup=False,
        is_paused_upon_creation=False,
    ):

        @task
        def short() -> None:
            time.sleep(0.1)

        short()


with DAG(
    "bench_sleeper",
    schedule=None,
    start_date=pendulum.datetime(2020, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,
    max_active_runs=64,
    max_active_tasks=64,
):

    @task
    def sleep(dag_run: Any = None) -> None:
        """Sleeps ``conf["seconds"]`` seconds (default 15 minutes): a long RUNNING run."""
        time.sleep(float((dag_run.conf or {}).get("seconds", 900)))

    sleep()
