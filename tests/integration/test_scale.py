"""Many plans, big plans (issue: the service, hardened, items 13 and 14) on a real Airflow."""

from __future__ import annotations

import datetime as dt
import threading
import time

from tests.integration.harness import Airflow
from tests.integration.plans import API, get, not_busy, wait_for


def test_first_plans_made_at_once_on_a_new_airflow_all_make_the_parked_pool(airflow: Airflow):
    """The first plan on an Airflow makes the 0-slot pool of dry-run tasks: ten first plans at once
    all get 201 (on PostgreSQL, all but one found the pool taken at commit: a 500 before)."""
    gone = airflow.client().delete(f"{airflow.url}/api/v2/pools/backfill_parked", timeout=60)
    assert gone.status_code in (204, 404), gone.text
    names = [f"first-{i}" for i in range(10)]
    start = threading.Barrier(len(names))
    answers: dict[str, int] = {}

    def create(i: int) -> None:
        day = (dt.date(2021, 1, 1) + dt.timedelta(days=i)).isoformat()
        body = {"dag_id": "ledger_hourly", "name": names[i], "lot": "1d", "dates": [day]}
        start.wait()
        response = not_busy(
            lambda: airflow.client().post(f"{airflow.url}{API}/plans", json=body, timeout=300)
        )
        answers[names[i]] = response.status_code

    threads = [threading.Thread(target=create, args=(i,)) for i in range(len(names))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == dict.fromkeys(names, 201)
    pool = airflow.api("GET", "/api/v2/pools/backfill_parked")
    assert pool["slots"] == 0
    for name in names:
        assert wait_for(airflow, name, timeout=600)["state"] == "success"


def test_fifty_one_lot_plans_created_at_once_all_succeed(airflow: Airflow):
    names = [f"crowd-{i:02d}" for i in range(50)]
    refused: list[str] = []

    def create(i: int) -> None:
        day = (dt.date(2022, 1, 1) + dt.timedelta(days=i)).isoformat()
        body = {"dag_id": "ledger_hourly", "name": names[i], "lot": "1d", "dates": [day]}
        response = not_busy(
            lambda: airflow.client().post(f"{airflow.url}{API}/plans", json=body, timeout=300)
        )
        if response.status_code != 201:
            refused.append(f"{names[i]}: {response.status_code} {response.text[:500]}")

    threads = [threading.Thread(target=create, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert refused == []
    for name in names:
        plan = wait_for(airflow, name, timeout=600)
        lots = get(airflow, f"/plans/{name}/lots")
        assert plan["state"] == "success", (plan, lots, airflow.log_tail("scheduler", 30))


def test_a_plan_progresses_beside_24_long_running_runs_of_another_dag(airflow: Airflow):
    now = dt.datetime.now(dt.timezone.utc)
    # the runs are made while their DAG is paused: no task of them calls the execution API meanwhile
    # (on SQLite, Airflow's audit-log write of each POST waits on the api-server's event loop for the
    # write lock a task's heartbeat holds: docs/operations.md, "SQLite")
    airflow.api("PATCH", "/api/v2/dags/ledger_long", json={"is_paused": True})
    try:
        long_runs = [
            airflow.api(
                "POST",
                "/api/v2/dags/ledger_long/dagRuns",
                json={"logical_date": (now - dt.timedelta(seconds=i)).isoformat()},
            )["dag_run_id"]
            for i in range(24)
        ]
    finally:
        airflow.api("PATCH", "/api/v2/dags/ledger_long", json={"is_paused": False})
    try:
        deadline = time.monotonic() + 180
        running = 0
        while time.monotonic() < deadline and running < 24:
            found = airflow.api(
                "GET", "/api/v2/dags/ledger_long/dagRuns", params={"state": "running", "limit": 100}
            )
            running = found["total_entries"]
            time.sleep(1)
        assert running >= 24, f"only {running} long runs are running"
        airflow.client().post(
            f"{airflow.url}{API}/plans",
            json={
                "dag_id": "ledger_hourly",
                "name": "beside-busy",
                "lot": "6h",
                "dates": ["2022-06-01"],
                "parallelism": 2,
            },
        ).raise_for_status()
        plan = wait_for(airflow, "beside-busy", timeout=300)
        assert plan["state"] == "success", plan["counts"]
    finally:
        for run_id in long_runs:
            airflow.client().patch(
                f"{airflow.url}/api/v2/dags/ledger_long/dagRuns/{run_id}",
                json={"state": "failed"},
                timeout=60,
            )


def test_a_hundred_thousand_lot_plan_creates_only_its_window_and_cancels_in_chunks(airflow: Airflow):
    started = time.monotonic()
    response = airflow.client().post(
        f"{airflow.url}{API}/plans",
        json={
            "dag_id": "ledger_hourly",
            "name": "hundred-thousand",
            "lot": "1h",
            "ranges": [{"start": "2000-01-01", "end": "2011-05-29T16:00:00"}],
        },
        timeout=300,
    )
    assert response.status_code == 201, response.text
    created = time.monotonic() - started
    plan = response.json()["plan"]
    assert plan["total_lots"] == 100_000
    runs = airflow.api(
        "GET",
        "/api/v2/dags/ledger_hourly/dagRuns",
        params={"limit": 1, "run_id_pattern": "backfill_plan__hundred-thousand__%"},
    )
    assert runs["total_entries"] == 1 + 16
    page = get(airflow, "/plans/hundred-thousand/lots", limit=3, offset=99_997)
    assert [lot["index"] for lot in page["lots"]] == [99_997, 99_998, 99_999]
    cancelled = airflow.client().post(f"{airflow.url}{API}/plans/hundred-thousand/cancel", timeout=300).json()
    assert cancelled["state"] == "cancelled"
    assert (
        cancelled["counts"]["cancelled"] + cancelled["counts"]["success"] + cancelled["counts"]["failed"]
        == 100_000
    )
    assert created < 120, f"creating took {created:.1f}s"
    too_big = airflow.client().post(
        f"{airflow.url}{API}/plans?preview=true",
        json={
            "dag_id": "ledger_hourly",
            "lot": "1h",
            "ranges": [{"start": "1990-01-01", "end": "2020-01-01"}],
        },
    )
    assert too_big.status_code == 422 and "max_lots" in too_big.text
    preview = (
        airflow.client()
        .post(
            f"{airflow.url}{API}/plans?preview=true",
            json={
                "dag_id": "ledger_hourly",
                "lot": "1h",
                "ranges": [{"start": "2000-01-01", "end": "2004-12-31"}],
            },
        )
        .json()
    )
    assert preview["total"] == 43_848 and len(preview["lots"]) == 1000
