"""Waits for a plan to end, through the REST API, holding no worker slot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_backfill_provider.exceptions import BackfillError
from airflow_backfill_provider.hooks.backfill import FINAL_STATES, BackfillHook


def plan_outcome(event: dict[str, Any]) -> str:
    """The plan's state from this trigger's event (or a poke), or raise naming how it ended."""
    state = event.get("state")
    if state == "success":
        return state
    counts = ", ".join(f"{n} {s}" for s, n in (event.get("counts") or {}).items() if n)
    raise BackfillError(f"backfill plan {event.get('plan')} ended {state}: {event.get('error') or counts}")


class BackfillPlanTrigger(BaseTrigger):
    """Polls ``GET /plans/{plan}`` every ``poll_interval`` seconds; one event when the plan has ended.

    :param plan: the plan's id or name.
    :param backfill_conn_id: connection of type ``backfill`` to the api-server (``BackfillHook``).
    :param poll_interval: seconds between two looks at the plan.
    """

    def __init__(
        self, plan: str, backfill_conn_id: str = BackfillHook.default_conn_name, poll_interval: float = 10.0
    ) -> None:
        super().__init__()
        self.plan = plan
        self.backfill_conn_id = backfill_conn_id
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "airflow_backfill_provider.triggers.backfill.BackfillPlanTrigger",
            {
                "plan": self.plan,
                "backfill_conn_id": self.backfill_conn_id,
                "poll_interval": self.poll_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = BackfillHook(self.backfill_conn_id)
        while True:
            try:
                plan = await asyncio.to_thread(hook.get_plan, self.plan)
            except Exception as exc:  # 4xx: the plan is gone or we may not read it; say so and stop
                yield TriggerEvent({"plan": self.plan, "state": "error", "error": str(exc), "counts": {}})
                return
            if plan["state"] in FINAL_STATES:
                yield TriggerEvent({"plan": self.plan, "state": plan["state"], "counts": plan["counts"]})
                return
            await asyncio.sleep(self.poll_interval)
