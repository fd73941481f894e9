"""Version 2 of a DAG served by the versioned test bundle (auth/versioned_bundle.py)."""

from __future__ import annotations

import time

import pendulum
from airflow.sdk import DAG, task
from ledger_record import record

VERSION = "v2"

with DAG(
    "ledger_versioned",
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,
):

    @task
    def step(**context):
        record(context, began=time.time(), version=VERSION)

    previous = None
    for name in ("a", "b", "c"):
        current = step.override(task_id=name)()
        if previous is not None:
            previous >> current
        previous = current
