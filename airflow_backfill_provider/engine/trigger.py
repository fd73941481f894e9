"""The plan driver: a trigger that advances its plan until the plan ends, holding no worker slot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import requests
from airflow.triggers.base import BaseTrigger, TriggerEvent

log = logging.getLogger(__name__)
FINAL = ("success", "failed", "cancelled")
TOKEN_HEADER = "X-Backfill-Plan-Token"


class PlanDriverTrigger(BaseTrigger):
    """Calls the service's ``advance`` for one plan every ``poll_interval`` seconds.

    It acts only for its own plan, with that plan's token (contract §3: no stored password). Errors
    (api-server restarting, network) are logged and retried with a growing pause: a plan never fails
    because its driver could not reach the service for a while.
    """

    def __init__(self, plan: str, token: str, base_url: str, poll_interval: float = 2.0) -> None:
        super().__init__()
        self.plan = plan
        self.token = token
        self.base_url = base_url.rstrip("/")
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "airflow_backfill_provider.engine.trigger.PlanDriverTrigger",
            {
                "plan": self.plan,
                "token": self.token,
                "base_url": self.base_url,
                "poll_interval": self.poll_interval,
            },
        )

    def _advance(self) -> dict[str, Any]:
        response = requests.post(
            f"{self.base_url}/backfill/api/v1/plans/{self.plan}/advance",
            headers={TOKEN_HEADER: self.token},
            timeout=60,
        )
        response.raise_for_status()
        return dict(response.json())

    async def run(self) -> AsyncIterator[TriggerEvent]:
        pause = self.poll_interval
        while True:
            try:
                plan = await asyncio.to_thread(self._advance)
            except Exception as exc:
                log.warning("advancing plan %s failed, retrying in %.0fs: %s", self.plan, pause, exc)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)
                continue
            pause = self.poll_interval
            if plan.get("state") in FINAL:
                yield TriggerEvent(
                    {
                        "state": plan["state"],
                        "counts": plan.get("counts", {}),
                        "plan": plan.get("name", self.plan),
                        "notify": plan.get("notify"),
                    }
                )
                return
            await asyncio.sleep(self.poll_interval)
