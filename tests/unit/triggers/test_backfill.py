"""BackfillPlanTrigger against a fake API on loopback: one event when the plan ends, one error event
when the plan cannot be read, and a serialisation the triggerer can rebuild it from."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Iterator

import pytest
from airflow.triggers.base import TriggerEvent

from airflow_backfill_provider.exceptions import BackfillError
from airflow_backfill_provider.triggers.backfill import BackfillPlanTrigger, plan_outcome
from tests.unit.loopback import FakeBackfillApi, backfill_api, plan_row


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeBackfillApi]]:
    with backfill_api(monkeypatch) as api:
        api.plans["p"] = plan_row("p", "d")
        yield api


def _events(trigger: BackfillPlanTrigger) -> list[TriggerEvent]:
    async def collect() -> list[TriggerEvent]:
        return [event async for event in trigger.run()]

    return asyncio.run(asyncio.wait_for(collect(), timeout=10))


def test_one_event_when_the_plan_ends(api: type[FakeBackfillApi]):
    api.states = ["running", "paused", "success"]
    api.plans["p"]["counts"] = {"success": 2}
    (event,) = _events(BackfillPlanTrigger("p", "backfill_fake", poll_interval=0.01))
    assert event.payload == {"plan": "p", "state": "success", "counts": {"success": 2}}
    assert sum(1 for r in api.requests if r[1] == "/backfill/api/v1/plans/p") == 3


def test_a_plan_it_cannot_read_is_one_error_event(api: type[FakeBackfillApi]):
    (event,) = _events(BackfillPlanTrigger("gone", "backfill_fake", poll_interval=0.01))
    assert event.payload["state"] == "error" and "404" in event.payload["error"]
    with pytest.raises(BackfillError, match="backfill plan gone ended error: 404"):
        plan_outcome(event.payload)


def test_it_serialises_to_what_rebuilds_it():
    classpath, kwargs = BackfillPlanTrigger("p", "conn", 4.5).serialize()
    module, name = classpath.rsplit(".", 1)
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    assert rebuilt.serialize() == (classpath, {"plan": "p", "backfill_conn_id": "conn", "poll_interval": 4.5})
