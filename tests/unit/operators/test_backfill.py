"""BackfillPlanOperator and its extra link against a fake API on loopback: submits once (a retry
finds the same plan), returns and pushes the plan's name, waits polling or deferred."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred

from airflow_backfill_provider.exceptions import BackfillError
from airflow_backfill_provider.operators import backfill as operators
from airflow_backfill_provider.operators.backfill import BackfillPlanLink, BackfillPlanOperator
from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.triggers.backfill import BackfillPlanTrigger
from tests.unit.loopback import FakeBackfillApi, backfill_api


class _Ti:
    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeBackfillApi]]:
    with backfill_api(monkeypatch) as api:
        yield api


def _operator(plan: Any = None, **kwargs: Any) -> BackfillPlanOperator:
    return BackfillPlanOperator(
        task_id="submit",
        plan=plan or {"dag_id": "d", "name": "p", "dates": ["2024-01-01"]},
        backfill_conn_id="backfill_fake",
        **kwargs,
    )


def test_it_submits_the_plan_and_returns_and_pushes_its_name(api: type[FakeBackfillApi]):
    ti = _Ti()
    assert _operator().execute({"ti": ti}) == "p"
    assert ti.pushed == {"return_value": "p"}
    assert _operator().execute({"ti": _Ti()}) == "p"  # a retry finds the plan it made
    assert list(api.plans) == ["p"]


@pytest.mark.parametrize(
    "plan",
    [
        "dag_id: d\nname: p\ndates: ['2024-01-01']\n",
        BackfillPlan(dag_id="d", name="p", dates=["2024-01-01"]),  # type: ignore[list-item]
    ],
    ids=["yaml", "model"],
)
def test_a_plan_may_be_yaml_text_or_a_model(api: type[FakeBackfillApi], plan: Any):
    assert _operator(plan).execute({"ti": _Ti()}) == "p"
    assert api.plans["p"]["dag_id"] == "d"


def test_a_bad_plan_fails_before_any_call(api: type[FakeBackfillApi]):
    with pytest.raises(BackfillError, match="parallelism"):
        _operator({"dag_id": "d", "dates": ["2024-01-01"], "parallelism": 0}).execute({"ti": _Ti()})
    assert api.requests == []


def test_waiting_polls_until_the_plan_ends(api: type[FakeBackfillApi]):
    api.states = ["running", "success"]
    assert _operator(wait_for_completion=True, poll_interval=0.01).execute({"ti": _Ti()}) == "p"
    api.plans.clear()
    api.states = ["failed"]
    with pytest.raises(BackfillError, match="ended failed"):
        _operator(wait_for_completion=True, poll_interval=0.01).execute({"ti": _Ti()})


def test_deferred_it_waits_in_the_triggerer(api: type[FakeBackfillApi]):
    with pytest.raises(TaskDeferred) as deferred:
        _operator(wait_for_completion=True, deferrable=True, poll_interval=3).execute({"ti": _Ti()})
    trigger = deferred.value.trigger
    assert isinstance(trigger, BackfillPlanTrigger)
    assert (trigger.plan, trigger.poll_interval, deferred.value.method_name) == ("p", 3, "execute_complete")
    operator = _operator(wait_for_completion=True, deferrable=True)
    assert operator.execute_complete({}, {"plan": "p", "state": "success", "counts": {}}) == "p"
    with pytest.raises(BackfillError, match="ended cancelled"):
        operator.execute_complete({}, {"plan": "p", "state": "cancelled", "counts": {}})


def test_the_link_opens_the_plan_on_the_page(monkeypatch: pytest.MonkeyPatch):
    values = {"submit": "weekly rebuild/2024", "other": None}
    monkeypatch.setattr(
        operators.XCom, "get_value", staticmethod(lambda *, ti_key, key: values[ti_key.task_id])
    )
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example/")
    link = BackfillPlanLink()
    assert link.get_link(None, ti_key=SimpleNamespace(task_id="submit")) == (
        "https://airflow.example/plugin/backfill-plans?plan=weekly%20rebuild/2024"
    )
    assert link.get_link(None, ti_key=SimpleNamespace(task_id="other")) == ""
