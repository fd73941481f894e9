"""DAGs shaped like the seeds' workflows, for their own example requests (tests/integration/test_compat.py).

Numeric ids of the seeds map to these through tests/integration/seed_id_map.yaml.
"""

from __future__ import annotations

import time

import pendulum
from airflow.sdk import DAG, Asset, task
from ledger_record import record

START = pendulum.datetime(2020, 1, 1, tz="UTC")
SALES = Asset("ledger://dw_sales")


def _chain(dag_id: str, schedule, tasks: dict[str, list[str]], outlets=()):
    """A DAG whose tasks record their params; ``tasks``: task id -> the tasks it feeds."""
    with DAG(
        dag_id,
        schedule=schedule,
        start_date=START,
        catchup=False,
        is_paused_upon_creation=False,
        params={"key1": "default", "key2": "default"},
    ) as dag:

        @task
        def step(**context):
            began = time.time()
            time.sleep(0.2)
            record(context, began=began, params={k: context["params"].get(k) for k in ("key1", "key2")})

        made = {
            name: step.override(task_id=name, outlets=list(outlets) if not feeds else [])()
            for name, feeds in tasks.items()
        }
        for name, feeds in tasks.items():
            for after in feeds:
                made[name] >> made[after]
    return dag


# DMS task flow 15001: extract(1) -> transform(2) -> load(3); 15002 runs nightly at 02:00
dms_flow = _chain("dms_flow", "@daily", {"extract": ["transform"], "transform": ["load"], "load": []})
dms_nightly = _chain("dms_nightly", "0 2 * * *", {"load": []})
# DataWorks (old API) hourly workflow: root(1234) -> audit(123465); root -> load(74324) -> report(74325)
dw_xm = _chain("dw_xm", "@hourly", {"root": ["audit", "load"], "audit": [], "load": ["report"], "report": []})
# DataWorks (new API) project 100: extract(1234) -> load(1002) -> check(4321); dw_sales_report after it
dw_sales = _chain(
    "dw_sales", "@daily", {"extract": ["load"], "load": ["check"], "check": []}, outlets=[SALES]
)
dw_sales_report = _chain("dw_sales_report", [SALES], {"report": []})
# WeData workflow task 20250827115253729; Aloudata acceleration plan 5468b0c0462e40e08e44108d8164c7c3
wedata_orders = _chain("wedata_orders", "@daily", {"orders": ["summary"], "summary": []})
aloudata_metrics = _chain("aloudata_metrics", "@daily", {"refresh": [], "publish": []})
# a WeData workflow scheduled in Tokyo: a date without TimeZone is Tokyo's calendar day
with DAG(
    "wedata_tokyo",
    schedule="@daily",
    start_date=pendulum.datetime(2020, 1, 1, tz="Asia/Tokyo"),
    catchup=False,
    is_paused_upon_creation=False,
) as wedata_tokyo:

    @task(task_id="orders")
    def tokyo_orders(**context):
        record(context, began=time.time())

    tokyo_orders()
