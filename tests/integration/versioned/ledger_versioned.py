"""A DAG served by the versioned test bundle (auth/versioned_bundle.py): the harness puts this file in
the bundle's versions ``v1`` (tasks a, b) and ``v2`` (a, b, c); each copy reads its version from its
directory."""

from __future__ import annotations

import time
from pathlib import Path

import pendulum
from airflow.sdk import DAG, task
from ledger_record import record

VERSION = Path(__file__).resolve().parent.name  # versions/<v>, also through the bundle's checkout link
TASKS = {"v1": ("a", "b"), "v2": ("a", "b", "c")}[VERSION]

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
    for name in TASKS:
        current = step.override(task_id=name)()
        if previous is not None:
            previous >> current
        previous = current
