"""Plan fields from the cloud schedulers' backfills (issue 14): ``run_window`` (DataWorks RunPolicy)
and ``max_failures`` (WeData / DolphinScheduler "stop on failure"). ``queue`` is in tests/celery."""

from __future__ import annotations

import datetime as dt
import time

from tests.integration.harness import Airflow
from tests.integration.plans import API, get, ledger, lots, submit, wait_for


def plan_runs(af: Airflow, name: str) -> int:
    return int(
        af.sql("SELECT count(*) FROM dag_run WHERE run_id LIKE :p", p=f"backfill_plan__{name}__%")[0][0]
    )


def test_lots_wait_outside_the_run_window_and_start_when_it_opens(airflow: Airflow):
    now = dt.datetime.now(dt.timezone.utc)
    opens = (now + dt.timedelta(seconds=16)).replace(microsecond=0)  # a window may start on a second
    closes = opens + dt.timedelta(minutes=30)
    submit(
        airflow,
        {
            "dag_id": "ledger_hourly",
            "name": "run-window",
            "ranges": [{"start": "2025-11-01T00:00", "end": "2025-11-01T03:00"}],
            "parallelism": 3,
            "run_window": {
                "start": opens.strftime("%H:%M:%S"),
                "end": closes.strftime("%H:%M:%S"),
                "timezone": "UTC",
            },
        },
    )
    time.sleep(6)  # a few passes of the driver
    waiting = lots(airflow, "run-window")
    assert [lot["state"] for lot in waiting] == ["waiting"] * 3
    assert all("outside the run window" in lot["reason"] for lot in waiting)
    assert plan_runs(airflow, "run-window") == 0
    paused = airflow.sql(
        "SELECT b.is_paused FROM backfill b JOIN backfill_plan_dag d ON d.backfill_id = b.id "
        "JOIN backfill_plan p ON p.id = d.plan_id WHERE p.name = 'run-window'"
    )
    assert [bool(r[0]) for r in paused] == [True]  # Airflow's own scheduler holds it too
    plan = wait_for(airflow, "run-window", timeout=400)
    assert plan["state"] == "success", plan["counts"]
    entries = ledger(airflow, "run-window")
    assert len(entries) == 3 and min(e["began"] for e in entries) >= opens.timestamp()


def test_max_failures_stops_new_lots_and_retry_resumes(airflow: Airflow):
    submit(
        airflow,
        {
            "dag_id": "ledger_flaky",
            "name": "max-failures",
            "ranges": [{"start": "2025-10-01", "end": "2025-10-06"}],
            "max_failures": 1,
        },
    )
    plan = wait_for(airflow, "max-failures", timeout=300)
    assert plan["state"] == "failed"
    found = lots(airflow, "max-failures")
    assert [lot["state"] for lot in found] == [
        "success",
        "success",
        "failed",
        "blocked",
        "blocked",
        "blocked",
    ]
    assert all("stopped after 1 failed lot (max_failures: 1)" in lot["reason"] for lot in found[3:])
    assert plan_runs(airflow, "max-failures") == 3  # nothing started after the failure
    assert sorted(e["ds"] for e in ledger(airflow, "max-failures")) == ["2025-10-01", "2025-10-02"]
    retried = airflow.client().post(f"{airflow.url}{API}/plans/max-failures/retry")
    assert retried.status_code == 200, retried.text
    assert wait_for(airflow, "max-failures", timeout=300)["state"] == "success"
    assert sorted(e["ds"] for e in ledger(airflow, "max-failures")) == [f"2025-10-0{d}" for d in range(1, 7)]
    assert get(airflow, "/plans/max-failures")["counts"]["success"] == 6


def test_bad_values_are_refused_by_name(airflow: Airflow):
    response = airflow.client().post(
        f"{airflow.url}{API}/plans",
        params={"preview": "true"},
        json={
            "dag_id": "ledger_daily",
            "dates": ["2025-10-20"],
            "run_window": {"start": "22:00", "end": "6am", "timezone": "Mars/Olympus"},
            "max_failures": 0,
        },
    )
    assert response.status_code == 422
    locs = {f["loc"] for f in response.json()["error"]["fields"]}
    assert {"run_window.end", "run_window.timezone", "max_failures"} <= locs


def test_weight_rule_adds_priorities_along_the_graph(airflow: Airflow):
    submit(
        airflow,
        {
            "dag_id": "ledger_daily",
            "name": "weight-rule",
            "dates": ["2025-10-25"],
            "priority_weight": 10,
            "weight_rule": "downstream",
        },
    )
    assert wait_for(airflow, "weight-rule", timeout=300)["state"] == "success"
    run_id = lots(airflow, "weight-rule")[0]["run_id"]
    found = airflow.api("GET", f"/api/v2/dags/ledger_daily/dagRuns/{run_id}/taskInstances")["task_instances"]
    assert {ti["task_id"]: ti["priority_weight"] for ti in found} == {"a": 30, "b": 20, "c": 10}
