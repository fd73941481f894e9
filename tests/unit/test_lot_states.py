"""A lot's state from its run (``service/lot_states.py``): every case, as a table."""

from __future__ import annotations

import datetime as dt

import pytest

from airflow_backfill_provider.service.lot_states import RunSeen, of_run
from airflow_backfill_provider.states import LotState

NOW = dt.datetime(2024, 6, 1, 12, tzinfo=dt.timezone.utc)
END = dt.datetime(2024, 6, 2, tzinfo=dt.timezone.utc)
LATER = NOW + dt.timedelta(hours=3)
EARLIER = NOW - dt.timedelta(hours=3)
FLAGS = {"plan_paused": False, "dag_gone": False, "dag_paused": False}

CASES = [
    # (run, flags, state, reason contains)
    (RunSeen("success"), {}, LotState.SUCCESS, None),
    (RunSeen("failed"), {"dag_gone": True}, LotState.FAILED, None),  # an outcome beats every gate
    (RunSeen("running"), {"dag_paused": True}, LotState.RUNNING, None),
    (RunSeen("queued"), {"dag_gone": True, "dag_paused": True}, LotState.WAITING, "not in Airflow's DAG files"),
    (RunSeen("queued"), {"dag_paused": True}, LotState.WAITING, "is paused: unpause it"),
    (RunSeen("queued", run_after=END.replace(tzinfo=None) + dt.timedelta(0)), {}, LotState.WAITING, "run_future: wait"),
    (RunSeen("queued", run_after=LATER), {}, LotState.WAITING, "no logical date in the future"),
    (RunSeen("queued", run_after=EARLIER, logical_date=LATER), {}, LotState.WAITING, "starts no run before its logical date"),
    (RunSeen("queued", run_after=EARLIER, logical_date=EARLIER), {"plan_paused": True}, LotState.PENDING, "the plan is paused"),
    (RunSeen("queued", run_after=EARLIER, logical_date=EARLIER), {}, LotState.PENDING, None),
    (RunSeen("scheduled"), {}, LotState.PENDING, None),
]  # fmt: skip


@pytest.mark.parametrize(("run", "flags", "state", "reason"), CASES)
def test_a_lots_state_from_its_run(run: RunSeen, flags: dict, state: LotState, reason: str | None):
    found_state, found_reason = of_run(run, "d", END, **{**FLAGS, **flags}, now=NOW)
    assert found_state == state
    assert (found_reason is None) if reason is None else (reason in (found_reason or ""))
