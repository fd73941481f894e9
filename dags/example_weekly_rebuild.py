"""Every Monday, rebuild last week of ``example_sales`` through a backfill plan.

Needs the connection ``backfill_default`` (type ``backfill``): host = the api-server's URL, login
and password of an Airflow user allowed to run ``example_sales``.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from airflow_backfill_provider import BackfillPlanOperator, BackfillPlanSensor

with DAG(
    "example_weekly_rebuild",
    schedule="0 6 * * 1",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "backfill"],
    # a retry submits the same plan again and waits on the one it made (see docs/plans.md)
    default_args={"retries": 1, "retry_delay": timedelta(seconds=30)},
):
    rebuild = BackfillPlanOperator(
        task_id="rebuild_last_week",
        plan={
            "dag_id": "example_sales",
            "name": "weekly-rebuild-{{ ds_nodash }}",
            "ranges": [{"start": "{{ macros.ds_add(ds, -7) }}", "end": "{{ macros.ds_add(ds, -1) }}"}],
            "parallelism": 2,
            "reprocess": "all",
            "tasks": {"exclude": ["notify_*"]},
        },
        wait_for_completion=True,
        deferrable=True,  # waits in the triggerer, holding no worker slot
    )
    confirm = BackfillPlanSensor(task_id="confirm", plan="{{ ti.xcom_pull(task_ids='rebuild_last_week') }}")
    rebuild >> confirm
