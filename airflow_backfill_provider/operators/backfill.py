"""Submit a backfill plan from a DAG, and optionally wait for it (deferrable)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from airflow.configuration import conf
from airflow.providers.common.compat.sdk import XCom
from airflow.sdk import BaseOperator, BaseOperatorLink

from airflow_backfill_provider.hooks.backfill import FINAL_STATES, BackfillHook
from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.triggers.backfill import BackfillPlanTrigger, plan_outcome


class BackfillPlanLink(BaseOperatorLink):
    """The task's plan on the Backfill plans page (the plan's name is the task's XCom return value)."""

    name = "Backfill plan"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        plan = XCom.get_value(ti_key=ti_key, key="return_value")
        if not plan:
            return ""
        base = str(conf.get("api", "base_url", fallback="") or "").rstrip("/")
        return f"{base}/plugin/backfill-plans?plan={quote(str(plan))}"


class BackfillPlanOperator(BaseOperator):
    """Submit a backfill plan and return its name; optionally wait until it ends.

    Resubmitting the same plan (a retry of this task) returns the existing plan: nothing runs twice.
    The task's "Backfill plan" link opens the plan on the Backfill plans page.

    :param plan: the plan: a dict, YAML (or JSON) text, or a ``BackfillPlan``. Templated: every string
        in it is rendered with the task's context before the plan is read.
    :param backfill_conn_id: connection of type ``backfill`` to the api-server (``BackfillHook``).
    :param wait_for_completion: wait until the plan ends; the task fails when the plan fails or is
        cancelled.
    :param deferrable: wait in the triggerer, holding no worker slot (default: ``[operators]
        default_deferrable``, as Airflow's own operators).
    :param poll_interval: seconds between two looks at the plan while waiting.
    """

    template_fields: Sequence[str] = ("plan",)
    template_fields_renderers = {"plan": "json"}
    ui_color = "#f0e4ff"
    operator_extra_links = (BackfillPlanLink(),)

    def __init__(
        self,
        *,
        plan: dict[str, Any] | str | BackfillPlan,
        backfill_conn_id: str = BackfillHook.default_conn_name,
        wait_for_completion: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
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
        context["ti"].xcom_push(key="return_value", value=str(plan["name"]))  # the link, while it waits
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
