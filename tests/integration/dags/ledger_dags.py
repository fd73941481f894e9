"""Test DAGs whose tasks append what they did to a ledger file (BACKFILL_TEST_LEDGER).

A task writes its ledger line when it has done its work, so a try killed half-way leaves no line
and a retried try writes one: the ledger counts effects, the way a real task's output would.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Asset, BaseOperator, Param, task
from ledger_record import record

START = pendulum.datetime(2024, 1, 1, tz="UTC")
FAIL_DATES = {
    "2024-02-03",
    "2024-02-10",
    "2024-11-07",
    "2024-11-08",
    "2024-11-09",
    "2024-11-10",
}  # 02-10, 11-*: one test each


class SqlLikeOperator(BaseOperator):
    """Renders a templated ``sql`` and records it, as a SQL operator would run it."""

    template_fields = ("sql",)

    def __init__(self, *, sql: str, **kwargs):
        super().__init__(**kwargs)
        self.sql = sql

    def execute(self, context):
        record(context, began=time.time(), sql=self.sql, params=dict(context["params"]))


def chain_dag(
    dag_id: str,
    *,
    schedule="@daily",
    seconds: float = 0.5,
    fail_dates=frozenset(),
    retries=0,
    tasks=("a", "b", "c"),
    **dag_kwargs,
):
    with DAG(
        dag_id,
        schedule=schedule,
        start_date=START,
        catchup=False,
        is_paused_upon_creation=False,
        default_args={"retries": retries, "retry_delay": timedelta(seconds=1)},
        **dag_kwargs,
    ) as dag:

        @task
        def step(**context):
            began = time.time()
            if context["ds"] in fail_dates and context["ti"].task_id == tasks[0]:
                raise RuntimeError(f"failing on purpose for {context['ds']}")
            time.sleep(seconds)
            record(context, began=began)

        previous = None
        for name in tasks:
            current = step.override(task_id=name)()
            if previous is not None:
                previous >> current
            previous = current
    return dag


ledger_daily = chain_dag("ledger_daily")
ledger_order = chain_dag("ledger_order", seconds=2.0, tasks=("work",))
ledger_fail = chain_dag("ledger_fail", fail_dates=FAIL_DATES)
ledger_selfdep = chain_dag("ledger_selfdep", fail_dates=FAIL_DATES, tasks=("work",))
ledger_hourly = chain_dag("ledger_hourly", schedule="@hourly", seconds=0.1, tasks=("work",))
ledger_overlap = chain_dag("ledger_overlap", seconds=1.0, tasks=("work",))
ledger_paused = chain_dag("ledger_paused", seconds=0.1, tasks=("work",))
ledger_kill = chain_dag("ledger_kill", seconds=3.0, retries=3, tasks=("work", "more"))
ledger_reprocess = chain_dag("ledger_reprocess", fail_dates=FAIL_DATES, seconds=0.1, tasks=("work",))

with DAG(
    "ledger_params",
    schedule="@daily",
    start_date=START,
    catchup=False,
    is_paused_upon_creation=False,
    params={"table": "sales"},
) as ledger_params:
    load = SqlLikeOperator(
        task_id="load", sql="INSERT INTO {{ params.table }} SELECT * FROM src WHERE ds = '{{ ds }}'"
    )
    audit = SqlLikeOperator(
        task_id="audit", sql="SELECT count(*) FROM {{ params.table }} WHERE ds = '{{ ds }}'"
    )
    load >> audit


# a lot whose first try fails and whose retry (a new try, after `retry`) succeeds
def _fails_once(context):
    marker = os.path.join(os.path.dirname(os.environ["BACKFILL_TEST_LEDGER"]), f"flaky-{context['ds']}")
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError(f"first try for {context['ds']} fails on purpose")


with DAG("ledger_flaky", schedule="@daily", start_date=START, catchup=False, is_paused_upon_creation=False):

    @task(task_id="work")
    def flaky(**context):
        began = time.time()
        if context["ds"] in ("2024-03-02", "2025-10-03"):
            _fails_once(context)
        record(context, began=began)

    flaky()


# downstream DAGs: the consumer is scheduled on the asset the producer writes
LEDGER_ASSET = Asset("ledger://sales_table")

with DAG(
    "ledger_producer", schedule="@daily", start_date=START, catchup=False, is_paused_upon_creation=False
):

    @task(task_id="produce", outlets=[LEDGER_ASSET])
    def produce(**context):
        began = time.time()
        time.sleep(1.0)
        record(context, began=began)

    produce()

with DAG(
    "ledger_consumer", schedule=[LEDGER_ASSET], start_date=START, catchup=False, is_paused_upon_creation=False
):

    @task(task_id="consume")
    def consume(**context):
        record(context, began=time.time())

    consume()


# a DAG author's DAG: submit a plan over the REST API (connection backfill_default), wait for it
# in the triggerer, and check it again with the sensor
with DAG("ledger_author", schedule=None, start_date=START, catchup=False, is_paused_upon_creation=False):
    from airflow_backfill_provider import BackfillPlanOperator, BackfillPlanSensor

    submit = BackfillPlanOperator(
        task_id="submit",
        plan={
            "dag_id": "ledger_hourly",
            "name": "author-{{ ds_nodash }}",
            "lot": "12h",
            "dates": ["{{ macros.ds_add(ds, -1) }}"],
            "parallelism": 2,
        },
        wait_for_completion=True,
        deferrable=True,  # [operators] default_deferrable is False here
        poll_interval=2,
        # Airflow 3.3 can fail a resumed deferred task on the stale executor event of its defer exit
        # (apache/airflow#72716); a retry re-submits the same plan, which answers the one it made
        retries=1,
        retry_delay=timedelta(seconds=1),
    )
    check = BackfillPlanSensor(
        task_id="check",
        plan="{{ ti.xcom_pull(task_ids='submit') }}",
        poke_interval=2,
        deferrable=True,
        retries=1,
        retry_delay=timedelta(seconds=1),
    )
    submit >> check


# the sensor deferred on a plan that does not end in time: it fails after its timeout, as Airflow's
# own deferred sensors do (the trigger keeps the sensor's timeout)
with DAG(
    "ledger_author_timeout", schedule=None, start_date=START, catchup=False, is_paused_upon_creation=False
):
    from airflow_backfill_provider import BackfillPlanSensor

    BackfillPlanSensor(
        task_id="wait",
        plan="{{ dag_run.conf['plan'] }}",
        poke_interval=2,
        timeout=4,
        deferrable=True,
        retries=0,
    )


# Params with a schema: task_params and conf must fit them (never bypass their validation)
with DAG(
    "ledger_guarded",
    schedule="@daily",
    start_date=START,
    catchup=False,
    is_paused_upon_creation=False,
    params={"mode": Param("full", enum=["full", "incremental"]), "limit": Param(10, type="integer")},
) as ledger_guarded:
    SqlLikeOperator(task_id="load", sql="LOAD {{ params.mode }} LIMIT {{ params.limit }} FOR '{{ ds }}'")


# a mapped task between two plain ones: dry-running it must run none of its map indexes
with DAG("ledger_mapped", schedule="@daily", start_date=START, catchup=False, is_paused_upon_creation=False):

    @task(task_id="split")
    def split(**context):
        record(context, began=time.time())
        return [1, 2, 3]

    @task(task_id="each")
    def each(part, **context):
        record(context, began=time.time(), part=part, map_index=context["ti"].map_index)

    @task(task_id="after")
    def after(**context):
        record(context, began=time.time())

    each.expand(part=split()) >> after()


# depends_on_past: the plan must never hang on it (it is refused where it would)
with DAG(
    "ledger_past",
    schedule="@daily",
    start_date=START,
    catchup=False,
    is_paused_upon_creation=False,
    default_args={"depends_on_past": True},
):

    @task(task_id="work")
    def past_work(**context):
        began = time.time()
        if context["ds"] in FAIL_DATES:
            raise RuntimeError(f"failing on purpose for {context['ds']}")
        record(context, began=began)

    past_work()


# long runs that hold no worker slot (their one task waits deferred), to keep the scheduler busy
with DAG(
    "ledger_long",
    schedule=None,
    start_date=START,
    catchup=False,
    is_paused_upon_creation=False,
    max_active_runs=64,
    max_active_tasks=64,
):
    from airflow.providers.standard.sensors.time_delta import TimeDeltaSensor

    TimeDeltaSensor(task_id="wait", delta=timedelta(minutes=20), deferrable=True)
