"""DAGs of ``benchmarks/scheduler_load.py``: one short daily task, and one long sleeper."""

from __future__ import annotations

import time
from typing import Any

import pendulum
from airflow.sdk import DAG, task

with DAG(
    "bench_one_task",
    schedule="@daily",
    start_date=pendulum.datetime(2020, 1, 1, tz="UTC"),
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
