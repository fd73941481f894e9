"""The controller DAG: its runs tell the notification targets of backfill plans that ended (task ``notify``).

Ship it into Airflow with a one-line file in the DAGs folder:

    from airflow_backfill_provider.engine.controller import controller_dag  # noqa: F401

The service creates every run of it. A *notify* run (``notify__<plan>__…``) tells the targets of a
plan that has ended, on a worker, as Airflow runs its callbacks. A run triggered by hand does
nothing: its conf carries no signature of the service. The plan driver is not a run of this DAG: it
is a trigger the service starts in the triggerer (``service/driver.py``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from airflow_backfill_provider import signing
from airflow_backfill_provider.notifiers import build, targets
from airflow_backfill_provider.reserved import CONTROLLER_DAG_ID


class NotifyPlanOperator(BaseOperator):
    """Tells the targets of a plan that ended, as the service signed them into the run's conf."""

    def execute(self, context: Any) -> None:
        run = context["dag_run"]
        conf = run.conf or {}
        content = conf.get("notify")
        try:
            valid = isinstance(content, dict) and signing.verify(
                signing.RunBinding.of(run), content, conf.get("signature")
            )
        except signing.SigningUnavailable as exc:
            raise AirflowFailException(f"cannot check this notify run here: {exc}") from None
        if not valid or not isinstance(content, dict):
            raise AirflowFailException(
                "this run was not made by the backfill service (no valid signature): nothing to notify"
            )
        notify_plan_end(context, content, self.log)


def notify_plan_end(context: Any, content: dict[str, Any], log: Any) -> None:
    """Write the message and call each target once, with the task context plus ``backfill_plan`` (the
    plan's fields, as data).

    Only classes the deployment's targets name are imported, with the deployment's arguments and the
    message the provider writes (``notifiers.build``). A target that fails is logged; it does not
    change how the plan ended.
    """
    facts = content.get("facts") or {}
    try:
        defined = targets()
    except ValueError:
        log.exception("[backfill] notification_targets cannot be read here: nobody is told")
        return
    for name in content.get("targets") or ():
        target = defined.get(name)
        if target is None:
            log.error(
                "backfill plan %s names notification target %r, which this host does not define",
                facts.get("name"),
                name,
            )
            continue
        try:
            build(target, facts)({**context, "backfill_plan": facts})
        except Exception:
            log.exception("notification target %s failed for backfill plan %s", name, facts.get("name"))


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
    NotifyPlanOperator(task_id="notify", retries=2, retry_delay=timedelta(seconds=30))
