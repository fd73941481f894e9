"""The plan driver: a trigger that moves every active plan on, holding no worker slot.

It runs in the triggerer, owned by a triggerer callback the service writes (``service/driver.py``),
not by a task: no DAG run stands for it. It calls the service's driver endpoint every
``poll_interval`` seconds; one pass there advances all plans (``service/advance.py``). It acts with
its own token, which lives only in this trigger's kwargs (encrypted by Airflow) and lets it do
nothing but that. Errors
(the api-server restarting, the network) are logged and retried with a growing pause: plans never
fail because their driver could not reach the service for a while. It ends when the service says no
plan needs it, or when a newer driver has replaced it: its last event marks its callback a success.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import requests
from airflow.triggers.base import BaseTrigger, TaskSuccessEvent, TriggerEvent

from airflow_backfill_provider.reserved import DRIVER_TOKEN_HEADER

log = logging.getLogger(__name__)


class PlanDriverTrigger(BaseTrigger):
    """Calls ``POST /backfill/api/v1/driver/pass`` until no plan needs it."""

    def __init__(self, token: str, poll_interval: float = 2.0, api_url: str | None = None) -> None:
        super().__init__()
        self.token = token
        self.poll_interval = poll_interval
        self.api_url = api_url

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "airflow_backfill_provider.engine.trigger.PlanDriverTrigger",
            {"token": self.token, "poll_interval": self.poll_interval, "api_url": self.api_url},
        )

    def _url(self) -> str:
        from airflow_backfill_provider import settings

        return f"{(self.api_url or settings.api_url()).rstrip('/')}/backfill/api/v1/driver/pass"

    def _pass(self, url: str) -> requests.Response:
        return requests.post(url, headers={DRIVER_TOKEN_HEADER: self.token}, timeout=120)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        yield self._ended(await self._drive())

    def _ended(self, why: str) -> TriggerEvent:
        """The event that ends the driver: its callback's success (the ``state``/``body`` payload
        ``TriggererCallback.handle_event`` reads), or its task's for a driver an earlier version started
        as a run of the controller DAG, so that run ends without a worker."""
        if self.task_instance is not None:
            return TaskSuccessEvent()
        return TriggerEvent({"state": "success", "body": why})

    async def _drive(self) -> str:
        url = self._url()
        pause = self.poll_interval
        while True:
            try:
                response = await asyncio.to_thread(self._pass, url)
                if response.status_code == 403:
                    log.info("a newer plan driver has replaced this one: ending")
                    return "replaced"
                response.raise_for_status()
                done = bool(response.json().get("retire"))
            except Exception as exc:
                log.warning("plan driver pass failed, retrying in %.0fs: %s", pause, exc)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)
                continue
            pause = self.poll_interval
            if done:
                log.info("no backfill plan is active: the driver ends")
                return "no plan left"
            await asyncio.sleep(self.poll_interval)
