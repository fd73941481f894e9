"""The same plans on CeleryExecutor with two workers, two schedulers and two triggerers, and what can
go wrong there (issue 13): work spread on both workers, a plan's queue, kill -9 of a worker, of a
scheduler and of the triggerer the plan driver may be running in."""

from __future__ import annotations

import time

import pytest

from tests.integration.harness import Airflow
from tests.integration.plans import get, ledger, lots, submit, wait_for

pytestmark = pytest.mark.celery


def hostnames(af: Airflow, plan: str) -> dict[str, int]:
    rows = af.sql(
        "SELECT hostname, count(*) FROM task_instance WHERE run_id LIKE :prefix AND state = 'success' "
        "GROUP BY hostname",
        prefix=f"backfill_plan__{plan}__%",
    )
    return {str(host): int(n) for host, n in rows}


def test_a_200_lot_plan_at_parallelism_8_runs_on_both_workers(celery_airflow: Airflow):
    af = celery_airflow
    submit(
        af,
        {
            "dag_id": "ledger_hourly",
            "name": "celery-200",
            "ranges": [{"start": "2025-01-01T00:00", "end": "2025-01-09T08:00"}],
            "parallelism": 8,
        },
    )
    plan = wait_for(af, "celery-200", timeout=1200)
    assert plan["state"] == "success" and plan["total_lots"] == 200, plan["counts"]
    assert plan["counts"]["success"] == 200
    entries = ledger(af, "celery-200")
    assert len({e["start"] for e in entries}) == 200 and len(entries) == 200  # each hour once
    assert {e["worker"] for e in entries} == {"worker-1", "worker-2"}
    assert set(hostnames(af, "celery-200")) == {"worker-1", "worker-2"}
    runs = af.sql("SELECT count(*) FROM dag_run WHERE run_id LIKE 'backfill_plan__celery-200__%'")[0][0]
    assert runs == 200


def test_a_plan_queue_runs_only_on_the_worker_serving_it(celery_airflow: Airflow):
    af = celery_airflow
    submit(
        af,
        {
            "dag_id": "ledger_daily",
            "name": "celery-queue",
            "ranges": [{"start": "2025-02-01", "end": "2025-02-08"}],
            "parallelism": 4,
            "queue": "backfill",
            "tasks": {"exclude": ["c"]},
        },
    )
    plan = wait_for(af, "celery-queue", timeout=600)
    assert plan["state"] == "success", plan["counts"]
    entries = ledger(af, "celery-queue")
    assert {(e["ds"], e["task_id"]) for e in entries} == {
        (f"2025-02-0{d}", t) for d in range(1, 9) for t in "ab"
    }
    assert {e["worker"] for e in entries} == {"worker-2"}  # worker-1 does not serve `backfill`
    queues = af.sql(
        "SELECT task_id, queue, state FROM task_instance WHERE run_id LIKE 'backfill_plan__celery-queue__%'"
    )
    assert {(t, q) for t, q, s in queues if t != "c"} == {("a", "backfill"), ("b", "backfill")}
    assert {s for t, q, s in queues if t == "c"} == {"success"}  # dry-run: never sent to a worker


def test_kill_9_of_a_worker_a_scheduler_and_a_triggerer_mid_plan(celery_airflow: Airflow):
    af = celery_airflow
    submit(
        af,
        {
            "dag_id": "ledger_kill",
            "name": "celery-kill",
            "ranges": [{"start": "2025-03-01", "end": "2025-03-12"}],
            "parallelism": 4,
        },
    )

    def succeeded() -> int:
        return int(get(af, "/plans/celery-kill")["counts"]["success"])

    def wait_until(count: int, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while succeeded() < count and time.monotonic() < deadline:
            time.sleep(0.5)

    try:
        wait_until(2)
        af.kill("worker-1")  # kill -9 of the worker and the task processes it started
        wait_until(succeeded() + 2)
        af.kill("scheduler")  # the other scheduler carries on alone
        wait_until(succeeded() + 1)
        af.kill("triggerer")  # the plan driver goes on in the other triggerer
        plan = wait_for(af, "celery-kill", timeout=900)
    finally:
        for component in ("worker-1", "scheduler", "triggerer"):
            if component not in af.processes:
                af.start(component)
    assert plan["state"] == "success", plan["counts"]
    plan_lots = lots(af, "celery-kill")
    assert [lot["state"] for lot in plan_lots] == ["success"] * 12
    runs = af.sql(
        "SELECT data_interval_start FROM dag_run WHERE dag_id = 'ledger_kill' AND run_id LIKE 'backfill_plan__celery-kill__%'"
    )
    assert len(runs) == 12 and len({r[0] for r in runs}) == 12  # one run per interval
    entries = ledger(af, "celery-kill")
    assert {(e["ds"], e["task_id"]) for e in entries} == {
        (f"2025-03-{d:02d}", t) for d in range(1, 13) for t in ("work", "more")
    }
    tries = [(e["ds"], e["task_id"], e["try"]) for e in entries]
    assert len(tries) == len(set(tries)), "a try of a task ran twice"
    assert "worker-2" in {e["worker"] for e in entries}
