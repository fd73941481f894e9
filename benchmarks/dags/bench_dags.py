"""The benchmark DAG: three short tasks in a chain, daily."""

from __future__ import annotations

import time

import pendulum
from airflow.sdk import DAG, task

with DAG(
    "bench_three_tasks",
    schedule="@daily",
    start_date=pendulum.datetime(2020, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,
):

    @task
    def step():
        time.sleep(0.2)

    (
        step.override(task_id="extract")()
        >> step.override(task_id="transform")()
        >> step.override(task_id="load")()
    )
