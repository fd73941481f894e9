"""The plan driver's trigger against a small service on loopback: it passes until told to retire,
outlives errors, and ends with the event its owner needs (its callback's success, or an old driver
run's task success)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.triggers.base import TaskSuccessEvent, TriggerEvent

from airflow_backfill_provider.engine.trigger import PlanDriverTrigger
from airflow_backfill_provider.reserved import DRIVER_TOKEN_HEADER
from tests.unit.loopback import JsonHandler, serving


class _Service(JsonHandler):
    answers: list[tuple[int, dict[str, Any]]] = []
    tokens: list[str | None] = []

    def do_POST(self) -> None:
        self.tokens.append(self.headers.get(DRIVER_TOKEN_HEADER))
        self.answer(*(self.answers.pop(0) if self.answers else (200, {"retire": True})))


@pytest.fixture
def service() -> Iterator[tuple[type[_Service], str]]:
    _Service.answers, _Service.tokens = [], []
    with serving(_Service) as url:
        yield _Service, url


def _events(trigger: PlanDriverTrigger) -> list[TriggerEvent]:
    async def collect() -> list[TriggerEvent]:
        return [event async for event in trigger.run()]

    return asyncio.run(asyncio.wait_for(collect(), timeout=10))


def test_the_driver_passes_until_no_plan_is_left_and_ends_its_callback(service):
    handler, url = service
    handler.answers = [(200, {"retire": False}), (500, {}), (200, {"retire": False}), (200, {"retire": True})]
    (event,) = _events(PlanDriverTrigger("secret", poll_interval=0.05, api_url=url))
    assert event.payload == {"state": "success", "body": "no plan left"}  # TriggererCallback's payload
    assert handler.tokens == ["secret"] * 4  # the 500 was asked again, with the same token


def test_a_replaced_driver_ends_at_its_first_403(service):
    handler, url = service
    handler.answers = [(403, {"error": {"code": "forbidden"}})]
    (event,) = _events(PlanDriverTrigger("old", poll_interval=0.05, api_url=url))
    assert event.payload == {"state": "success", "body": "replaced"}
    assert len(handler.tokens) == 1


def test_a_driver_started_as_a_controller_run_ends_its_task_without_a_worker(service):
    handler, url = service
    handler.answers = [(403, {"error": {"code": "forbidden"}})]
    trigger = PlanDriverTrigger("old", poll_interval=0.05, api_url=url)
    trigger.task_instance = SimpleNamespace(dag_id="backfill_plan_controller", task_id="drive")  # type: ignore[assignment]
    (event,) = _events(trigger)
    assert isinstance(event, TaskSuccessEvent)
