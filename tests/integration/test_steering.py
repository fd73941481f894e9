"""Plan fields and verbs that steer lots: downstream DAGs, pool, priority, run_future, pause, retry."""

from __future__ import annotations

import datetime as dt
import time

from tests.integration.harness import Airflow
from tests.integration.plans import (
    API,
    get,
    ledger,
    lots,
    submit,
    task_instances,
    wait_for,
    wait_lot,
    wait_running,
)


def test_downstream_dags_run_the_same_intervals_after_their_parent(airflow: Airflow):
    plan = submit(
        airflow,
        {
            "dag_id": "ledger_producer",
            "name": "downstream",
            "downstream_dags": True,
            "parent_check": "scope",
            "parallelism": 2,
            "ranges": [{"start": "2024-01-01", "end": "2024-01-02"}],
        },
    )
    assert plan["total_lots"] == 4
    assert wait_for(airflow, "downstream")["state"] == "success"
    assert [(lot["dag_id"], lot["label"]) for lot in lots(airflow, "downstream")] == [
        ("ledger_producer", "2024-01-01"),
        ("ledger_consumer", "2024-01-01"),
        ("ledger_producer", "2024-01-02"),
        ("ledger_consumer", "2024-01-02"),
    ]
    entries = ledger(airflow, "downstream")
    for ds in ("2024-01-01", "2024-01-02"):
        produced = next(e for e in entries if e["dag_id"] == "ledger_producer" and e["ds"] == ds)
        consumed = next(e for e in entries if e["dag_id"] == "ledger_consumer" and e["ds"] == ds)
        assert consumed["began"] >= produced["at"], "the consumer's lot started before its parent's lot ended"


def test_pool_and_priority_weight_reach_the_plans_task_instances(airflow: Airflow):
    airflow.api("POST", "/api/v2/pools", json={"name": "backfill_test_pool", "slots": 4})
    submit(
        airflow,
        {
            "dag_id": "ledger_hourly",
            "name": "pooled",
            "dates": ["2024-04-01"],
            "lot": "12h",
            "pool": "backfill_test_pool",
            "priority_weight": 7,
            "parallelism": 2,
        },
    )
    assert wait_for(airflow, "pooled")["state"] == "success"
    for lot in lots(airflow, "pooled"):
        ti = task_instances(airflow, "ledger_hourly", lot["run_id"])["work"]
        assert (ti["pool"], ti["priority_weight"], ti["state"]) == ("backfill_test_pool", 7, "success")


def test_future_lots_wait_for_their_data_time_unless_run_future_now(airflow: Airflow):
    today = dt.datetime.now(dt.timezone.utc).date()
    # today's interval has started but not ended: `wait` waits for its end, `now` runs it at once
    submit(airflow, {"dag_id": "ledger_hourly", "name": "future-wait", "dates": [str(today)], "lot": "1d"})
    lot = wait_lot(airflow, "future-wait", 0, "waiting")
    assert lot["state"] == "waiting" and "data time ends then" in lot["reason"]
    submit(
        airflow,
        {
            "dag_id": "ledger_daily",
            "name": "future-now",
            "dates": [str(today)],
            "lot": "1d",
            "run_future": "now",
        },
    )
    assert wait_for(airflow, "future-now")["state"] == "success"
    assert {e["ds"] for e in ledger(airflow, "future-now")} == {str(today)}
    # an interval that starts in the future waits for its start even with `now`
    later = str(today + dt.timedelta(days=3))
    submit(
        airflow,
        {
            "dag_id": "ledger_daily",
            "name": "future-start",
            "dates": [later],
            "lot": "1d",
            "run_future": "now",
        },
    )
    lot = wait_lot(airflow, "future-start", 0, "waiting")
    assert lot["state"] == "waiting" and "no logical date in the future" in lot["reason"]
    for name in ("future-wait", "future-start"):
        assert airflow.client().post(f"{airflow.url}{API}/plans/{name}/cancel").json()["state"] == "cancelled"


def test_pause_starts_no_new_lot_and_resume_goes_on(airflow: Airflow):
    submit(
        airflow,
        {
            "dag_id": "ledger_order",
            "name": "pause-resume",
            "ranges": [{"start": "2024-05-01", "end": "2024-05-04"}],
        },
    )
    wait_running(airflow, "pause-resume")
    assert get(airflow, "/plans/pause-resume")["actions"] == ["pause", "cancel"]  # what the page offers
    paused = airflow.client().post(f"{airflow.url}{API}/plans/pause-resume/pause").json()
    assert (paused["state"], paused["actions"]) == ("paused", ["resume", "cancel"])
    deadline = time.monotonic() + 60  # the lot running at the pause (2 s of work) ends...
    while get(airflow, "/plans/pause-resume")["counts"]["running"] and time.monotonic() < deadline:
        time.sleep(0.5)
    done_while_paused = len(ledger(airflow, "pause-resume"))
    assert 1 <= done_while_paused <= 2  # (one more only if it had been admitted just before the pause)
    assert get(airflow, "/plans/pause-resume")["counts"]["running"] == 0
    time.sleep(6)  # ...and no other lot starts while the plan is paused (three passes of the driver)
    assert len(ledger(airflow, "pause-resume")) == done_while_paused
    assert get(airflow, "/plans/pause-resume")["counts"]["running"] == 0
    assert airflow.client().post(f"{airflow.url}{API}/plans/pause-resume/resume").json()["state"] == "running"
    assert wait_for(airflow, "pause-resume")["state"] == "success"
    assert sorted(e["ds"] for e in ledger(airflow, "pause-resume")) == [f"2024-05-0{d}" for d in range(1, 5)]
    assert get(airflow, "/plans/pause-resume")["actions"] == []  # ended, every lot done: nothing to steer


def test_retry_reruns_the_failed_lot_in_its_run_then_the_blocked_ones(airflow: Airflow):
    submit(
        airflow,
        {
            "dag_id": "ledger_flaky",
            "name": "retry",
            "self_dependency": "on",
            "ranges": [{"start": "2024-03-01", "end": "2024-03-04"}],
        },
    )
    assert wait_for(airflow, "retry")["state"] == "failed"
    assert [lot["state"] for lot in lots(airflow, "retry")] == ["success", "failed", "blocked", "blocked"]
    assert get(airflow, "/plans/retry")["actions"] == ["retry"]
    assert [lot["retryable"] for lot in lots(airflow, "retry")] == [False, True, True, True]
    failed_run = lots(airflow, "retry")[1]["run_id"]
    retried = airflow.client().post(f"{airflow.url}{API}/plans/retry/retry")
    assert retried.status_code == 200 and retried.json()["state"] == "running"
    assert wait_for(airflow, "retry")["state"] == "success"
    assert lots(airflow, "retry")[1]["run_id"] == failed_run
    assert sorted(e["ds"] for e in ledger(airflow, "retry")) == [f"2024-03-0{d}" for d in range(1, 5)]
    timeline = [t["state"] for t in get(airflow, "/plans/retry/lots/1")["timeline"]]
    assert timeline[-1] == "success" and "failed" in timeline


def test_parent_check_all_waits_for_a_parent_dag_outside_the_plan(airflow: Airflow):
    submit(
        airflow,
        {
            "dag_id": "ledger_consumer",
            "name": "parents-all",
            "parent_check": "all",
            "lot": "1d",
            "dates": ["2024-06-01"],
        },
    )
    lot = wait_lot(airflow, "parents-all", 0, "waiting")
    assert lot["state"] == "waiting" and "ledger_producer" in lot["reason"]
    assert ledger(airflow, "parents-all") == []
    submit(airflow, {"dag_id": "ledger_producer", "name": "the-parent", "dates": ["2024-06-01"]})
    assert wait_for(airflow, "the-parent")["state"] == "success"
    assert wait_for(airflow, "parents-all")["state"] == "success"
    consumed = ledger(airflow, "parents-all")
    produced = ledger(airflow, "the-parent")
    assert len(consumed) == 1 and consumed[0]["began"] >= produced[0]["at"]


def test_cancel_stops_the_running_lot_and_starts_no_other(airflow: Airflow):
    submit(
        airflow,
        {
            "dag_id": "ledger_order",
            "name": "cancel-running",
            "ranges": [{"start": "2024-06-01", "end": "2024-06-03"}],
        },
    )
    wait_running(airflow, "cancel-running")
    running = next(lot for lot in lots(airflow, "cancel-running") if lot["state"] == "running")
    cancelled = airflow.client().post(f"{airflow.url}{API}/plans/cancel-running/cancel").json()
    assert cancelled["state"] == "cancelled"
    assert cancelled["counts"]["cancelled"] >= 2  # the running lot and those after it
    assert cancelled["counts"]["cancelled"] + cancelled["counts"]["success"] == 3
    run = airflow.api("GET", f"/api/v2/dags/ledger_order/dagRuns/{running['run_id']}")
    assert run["state"] == "failed"
    time.sleep(8)
    done = cancelled["counts"]["success"]
    assert len(ledger(airflow, "cancel-running")) <= done + 1  # the running lot's task may have just finished
    later = [lot["run_id"] for lot in lots(airflow, "cancel-running") if lot["index"] > running["index"]]
    for run_id in filter(None, later):
        assert airflow.api("GET", f"/api/v2/dags/ledger_order/dagRuns/{run_id}")["state"] == "failed"
