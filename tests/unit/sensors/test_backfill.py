"""BackfillPlanSensor against a fake API on loopback: pokes until the plan ends, fails when it fails,
and, deferred, keeps its ``timeout`` as Airflow's own sensors do."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from airflow.providers.common.compat.sdk import AirflowSensorTimeout, AirflowSkipException, TaskDeferred

from airflow_backfill_provider.exceptions import BackfillError
from airflow_backfill_provider.sensors.backfill import BackfillPlanSensor
from airflow_backfill_provider.triggers.backfill import BackfillPlanTrigger
from tests.unit.loopback import FakeBackfillApi, backfill_api, plan_row


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeBackfillApi]]:
    with backfill_api(monkeypatch) as api:
        api.plans["p"] = plan_row("p", "d")
        yield api


def _sensor(**kwargs) -> BackfillPlanSensor:
    return BackfillPlanSensor(task_id="wait", plan="p", backfill_conn_id="backfill_fake", **kwargs)


def test_it_pokes_until_the_plan_succeeds(api: type[FakeBackfillApi]):
    api.states = ["running", "paused", "success"]
    sensor = _sensor()
    assert [sensor.poke({}), sensor.poke({}), sensor.poke({})] == [False, False, True]


@pytest.mark.parametrize("state", ["failed", "cancelled"])
def test_a_plan_that_ends_otherwise_fails_the_sensor_naming_its_lots(api: type[FakeBackfillApi], state: str):
    api.states = [state]
    api.plans["p"]["counts"] = {"success": 1, "failed": 1, "running": 0}
    with pytest.raises(BackfillError, match=f"backfill plan p ended {state}: 1 success, 1 failed"):
        _sensor().poke({})


def test_deferred_it_waits_in_the_triggerer_no_longer_than_its_timeout(api: type[FakeBackfillApi]):
    with pytest.raises(TaskDeferred) as deferred:
        _sensor(deferrable=True, timeout=90, poke_interval=7).execute({})
    assert deferred.value.timeout == timedelta(seconds=90)
    assert deferred.value.method_name == "execute_complete"
    trigger = deferred.value.trigger
    assert isinstance(trigger, BackfillPlanTrigger)
    assert (trigger.plan, trigger.backfill_conn_id, trigger.poll_interval) == ("p", "backfill_fake", 7)


def test_deferred_it_does_not_defer_for_a_plan_that_already_succeeded(api: type[FakeBackfillApi]):
    api.states = ["success"]
    assert _sensor(deferrable=True).execute({}) is None


def test_a_deferral_that_timed_out_is_a_sensor_timeout_or_a_skip_with_soft_fail():
    timed_out = {"error": "Trigger timeout"}  # what the scheduler sets when the trigger's timeout passed
    with pytest.raises(AirflowSensorTimeout):
        _sensor(deferrable=True, timeout=5).resume_execution("__fail__", timed_out, {})
    with pytest.raises(AirflowSkipException):
        _sensor(deferrable=True, timeout=5, soft_fail=True).resume_execution("__fail__", timed_out, {})


def test_the_triggers_event_decides_the_outcome():
    sensor = _sensor(deferrable=True)
    assert sensor.execute_complete({}, {"plan": "p", "state": "success", "counts": {"success": 2}}) is None
    with pytest.raises(BackfillError, match="ended error: 403: forbidden"):
        sensor.execute_complete({}, {"plan": "p", "state": "error", "error": "403: forbidden", "counts": {}})
