"""Submit a backfill plan from a DAG, and optionally wait for it (deferrable) — contract §6."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from airflow_backfill_provider.exceptions import BackfillError
from airflow_backfill_provider.hooks.backfill import FINAL_STATES, BackfillHook
from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.triggers.backfill import BackfillPlanTrigger


def plan_outcome(event: dict[str, Any]) -> str:
    """The plan's state, or raise naming how it ended (shared by the operator and the sensor)."""
    state = event.get("state")
    if state == "success":
        return state
    counts = ", ".join(f"{n} {s}" for s, n in (event.get("counts") or {}).items() if n)
    raise BackfillError(f"backfill plan {event.get('plan')} ended {state}: {event.get('error') or counts}")


class BackfillPlanOperator(BaseOperator):
    """Submit ``plan`` (a dict, YAML text or BackfillPlan; templated) and return its name.

    With ``wait_for_completion`` the task ends when the plan ends, and fails when the plan fails or
    is cancelled; ``deferrable`` (default) waits in the triggerer, holding no worker slot.
    Resubmitting the same plan (a retry of this task) returns the existing plan: nothing runs twice.
    """

    template_fields: Sequence[str] = ("plan",)
    template_fields_renderers = {"plan": "json"}
    ui_color = "#f0e4ff"

    def __init__(
        self,
        *,
        plan: dict[str, Any] | str | BackfillPlan,
        backfill_conn_id: str = BackfillHook.default_conn_name,
        wait_for_completion: bool = False,
        deferrable: bool = True,
        poll_interval: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.plan = plan.to_dict() if isinstance(plan, BackfillPlan) else plan
        self.backfill_conn_id = backfill_conn_id
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = poll_interval

    def execute(self, context: Any) -> str:
        spec = (
            BackfillPlan.from_yaml(self.plan)
            if isinstance(self.plan, str)
            else BackfillPlan.from_dict(self.plan)
        )
        hook = BackfillHook(self.backfill_conn_id)
        created = hook.create_plan(spec)
        plan = created["plan"]
        self.log.info(
            "%s backfill plan %s: %s lots of %s",
            "created" if created.get("created") else "found",
            plan["name"],
            plan["total_lots"],
            plan["dag_id"],
        )
        if not self.wait_for_completion:
            return str(plan["name"])
        if self.deferrable:
            self.defer(
                trigger=BackfillPlanTrigger(plan["name"], self.backfill_conn_id, self.poll_interval),
                method_name="execute_complete",
            )
        while plan["state"] not in FINAL_STATES:
            time.sleep(self.poll_interval)
            plan = hook.get_plan(plan["name"])
        plan_outcome({"plan": plan["name"], "state": plan["state"], "counts": plan["counts"]})
        return str(plan["name"])

    def execute_complete(self, context: Any, event: dict[str, Any]) -> str:
        plan_outcome(event)
        return str(event["plan"])
