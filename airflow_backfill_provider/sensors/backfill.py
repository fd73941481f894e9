"""Wait for a backfill plan to succeed — contract §6."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseSensorOperator

from airflow_backfill_provider.hooks.backfill import FINAL_STATES, BackfillHook
from airflow_backfill_provider.operators.backfill import plan_outcome
from airflow_backfill_provider.triggers.backfill import BackfillPlanTrigger


class BackfillPlanSensor(BaseSensorOperator):
    """Succeeds when plan ``plan`` (id or name; templated) succeeds; fails if it fails or is cancelled."""

    template_fields: Sequence[str] = ("plan",)

    def __init__(
        self,
        *,
        plan: str,
        backfill_conn_id: str = BackfillHook.default_conn_name,
        deferrable: bool = True,
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
