"""Test DAGs whose tasks append what they ran to a ledger file (BACKFILL_TEST_LEDGER)."""

from __future__ import annotations

import json
import os
import time

import pendulum
from airflow.sdk import DAG, task

START = pendulum.datetime(2024, 1, 1, tz="UTC")


def record(context, **extra):
    entry = {
        "dag_id": context["dag"].dag_id,
        "task_id": context["ti"].task_id,
        "run_id": context["run_id"],
        "start": str(context["data_interval_start"]),
        "end": str(context["data_interval_end"]),
        "ds": context["ds"],
        "at": time.time(),
        **extra,
    }
    with open(os.environ["BACKFILL_TEST_LEDGER"], "a") as ledger:
        ledger.write(json.dumps(entry) + "\n")


def chain_dag(dag_id: str, schedule="@daily", seconds: float = 1.0, **dag_kwargs):
    with DAG(
        dag_id,
        schedule=schedule,
        start_date=START,
        catchup=False,
        is_paused_upon_creation=False,
        **dag_kwargs,
    ) as dag:

        @task
        def step(name: str, **context):
            began = time.time()
            time.sleep(seconds)
            record(context, began=began, name=name)

        a = step.override(task_id="a")("a")
        b = step.override(task_id="b")("b")
        c = step.override(task_id="c")("c")
        a >> b >> c
    return dag


ledger_daily = chain_dag("ledger_daily")
