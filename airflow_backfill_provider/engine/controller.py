"""The controller DAG: one run per plan; its mapped task ``lots`` shows one task instance per lot.

Ship it into Airflow with a one-line file in the DAGs folder:

    from airflow_backfill_provider.engine.controller import controller_dag  # noqa: F401

The service creates each run (conf: plan id, name and token), writes the ``plan`` task's result and
expands ``lots``; the lot task instances sit in the 0-slot pool and only ever show their lot's state.
``drive`` starts once on a worker, then defers to ``PlanDriverTrigger`` until the plan ends.
"""

from __future__ import annotations

import importlib
from typing import Any

import pendulum
from airflow.sdk import DAG, BaseOperator

from airflow_backfill_provider.engine.trigger import PlanDriverTrigger
from airflow_backfill_provider.exceptions import BackfillError
from airflow_backfill_provider.service.runs import CONTROLLER_DAG_ID, PARKED_POOL


class PlanLotsOperator(BaseOperator):
    """Stands for the plan's lot list; the service writes its result, it never runs on a worker."""

    def execute(self, context: Any) -> Any:
        raise BackfillError(
            "the backfill service writes this task's result: steer plans through its API or CLI"
        )


class LotMirrorOperator(BaseOperator):
    """One mapped instance per lot, showing the lot's state; parked, it never runs on a worker."""

    def __init__(self, *, lot: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lot = lot

    def execute(self, context: Any) -> Any:
        raise BackfillError(
            "lot task instances only mirror their lot: retry lots through the backfill API or CLI"
        )


class DrivePlanOperator(BaseOperator):
    """Defers to the plan driver; ends as the plan ends (success, or failure naming the lots)."""

    def execute(self, context: Any) -> None:
        from airflow.configuration import conf

        run_conf = context["dag_run"].conf or {}
        base_url = conf.get("api", "base_url", fallback=None) or "http://localhost:8080"
        self.defer(
            trigger=PlanDriverTrigger(
                plan=str(run_conf["plan_id"]), token=run_conf["token"], base_url=base_url
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Any, event: dict[str, Any]) -> None:
        state, counts = event["state"], event.get("counts", {})
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        notify_plan_end(context, event, self.log)
        if state != "success":
            raise BackfillError(f"backfill plan {event.get('plan')} ended {state}: {summary}")
        self.log.info("backfill plan %s succeeded: %s", event.get("plan"), summary)


def notify_plan_end(context: Any, event: dict[str, Any], log: Any) -> None:
    """Call the plan's notifiers (``notify``) once, when it ends in success or failure.

    Each notifier is any Airflow ``BaseNotifier``, built from its import path and kwargs and called
    like a callback, with the task context plus ``backfill_plan`` (name, state, counts). A notifier
    that fails is logged; it does not change how the plan ended.
    """
    notify = event.get("notify") or {}
    outcome = {"success": "success", "failed": "failure"}.get(event["state"])
    if not notify or outcome not in notify.get("on", ()):
        return
    plan = {"name": event.get("plan"), "state": event["state"], "counts": event.get("counts", {})}
    for spec in notify.get("notifiers", ()):
        try:
            module, _, name = spec["notifier"].rpartition(".")
            notifier = getattr(importlib.import_module(module), name)(**spec.get("kwargs", {}))
            notifier({**context, "backfill_plan": plan})
        except Exception:
            log.exception("notifier %s failed for backfill plan %s", spec.get("notifier"), plan["name"])


with DAG(
    CONTROLLER_DAG_ID,
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,
    max_active_runs=10_000,
    max_active_tasks=10_000,
    tags=["backfill"],
    doc_md=__doc__,
) as controller_dag:
    plan = PlanLotsOperator(task_id="plan")
    lots = LotMirrorOperator.partial(task_id="lots", pool=PARKED_POOL).expand(lot=plan.output)
    drive = DrivePlanOperator(task_id="drive", retries=0)
    plan >> drive
