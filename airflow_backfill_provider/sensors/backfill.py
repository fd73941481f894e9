"""Wait for a backfill plan to succeed, poking or deferred."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.configuration import conf
from airflow.sdk import BaseSensorOperator

from airflow_backfill_provider.hooks.backfill import FINAL_STATES, BackfillHook
from airflow_backfill_provider.triggers.backfill import BackfillPlanTrigger, plan_outcome


class BackfillPlanSensor(BaseSensorOperator):
    """Succeeds when a backfill plan succeeds; fails if it fails or is cancelled.

    :param plan: the plan's id or name. Templated (``"{{ ti.xcom_pull(task_ids='submit') }}"``).
    :param backfill_conn_id: connection of type ``backfill`` to the api-server (``BackfillHook``).
    :param deferrable: wait in the triggerer, holding no worker slot (default: ``[operators]
        default_deferrable``); otherwise poke every ``poke_interval`` seconds like any sensor.
        Deferred or not, the sensor fails (``AirflowSensorTimeout``) after ``timeout`` seconds, and
        ``soft_fail`` skips it instead, as for Airflow's own sensors.
    """

    template_fields: Sequence[str] = ("plan",)

    def __init__(
        self,
        *,
        plan: str,
        backfill_conn_id: str = BackfillHook.default_conn_name,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.plan = plan
        self.backfill_conn_id = backfill_conn_id
        self.deferrable = deferrable

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        if not self.poke(context):
            self.defer(
                trigger=BackfillPlanTrigger(str(self.plan), self.backfill_conn_id, self.poke_interval),
                method_name="execute_complete",
                timeout=timedelta(seconds=self.timeout),
            )
        return None

    def poke(self, context: Any) -> bool:
        plan = BackfillHook(self.backfill_conn_id).get_plan(self.plan)
        if plan["state"] in FINAL_STATES:
            plan_outcome({"plan": plan["name"], "state": plan["state"], "counts": plan["counts"]})
            return True
        return False

    def execute_complete(self, context: Any, event: dict[str, Any]) -> None:
        plan_outcome(event)
