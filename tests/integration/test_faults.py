"""Correctness under concurrency and faults (issue: the service, hardened): nothing lost, run twice or hung."""

from __future__ import annotations

import datetime as dt
import random
import textwrap
import threading
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
    wait_run,
)


def _runs(af: Airflow, dag_id: str, plan: str) -> list[dict]:
    return af.api(
        "GET",
        f"/api/v2/dags/{dag_id}/dagRuns",
        params={"limit": 100, "run_id_pattern": f"backfill_plan__{plan}__%"},
    )["dag_runs"]


# -- 6. steering is serialized per plan ---------------------------------------------------------


def test_concurrent_steering_answers_200_or_409_and_a_cancelled_plan_is_never_success(airflow: Airflow):
    submit(
        airflow,
        {
            "dag_id": "ledger_order",
            "name": "hammered",
            "ranges": [{"start": "2023-03-01", "end": "2023-03-08"}],
            "parallelism": 2,
        },
    )
    statuses: list[int] = []
    lock = threading.Lock()

    def hammer(seed: int) -> None:
        rng = random.Random(seed)
        client = airflow.client()
        for _ in range(12):
            verb = rng.choice(["pause", "resume", "cancel", "retry", "pause", "resume"])
            status = client.post(f"{airflow.url}{API}/plans/hammered/{verb}", timeout=120).status_code
            with lock:
                statuses.append(status)
            time.sleep(rng.random() * 0.3)

    threads = [threading.Thread(target=hammer, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(statuses) <= {200, 409}, statuses
    plan = get(airflow, "/plans/hammered")
    if plan["state"] not in ("success", "failed", "cancelled"):
        airflow.client().post(f"{airflow.url}{API}/plans/hammered/cancel")
    plan = wait_for(airflow, "hammered")
    if plan["counts"]["cancelled"]:
        assert plan["state"] != "success"
    # no run is left behind in flight by the plan
    time.sleep(3)
    assert not [r for r in _runs(airflow, "ledger_order", "hammered") if r["state"] in ("queued", "running")]
    # retry after cancel works: the plan runs to its end, each interval in one run
    if plan["state"] != "success":
        assert airflow.client().post(f"{airflow.url}{API}/plans/hammered/retry").status_code == 200
    assert wait_for(airflow, "hammered", timeout=400)["state"] == "success"
    runs = _runs(airflow, "ledger_order", "hammered")
    assert len(runs) == 8 and {r["state"] for r in runs} == {"success"}


# -- 7. a lot that cannot be materialised fails alone -------------------------------------------


def _write_dag(af: Airflow, dag_id: str, body: str) -> None:
    header = f"""
        import pendulum
        from airflow.sdk import DAG, Param, task

        with DAG("{dag_id}", schedule="@daily", start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
                 catchup=False, is_paused_upon_creation=False):
        """
    (af.dags_folder / f"{dag_id}.py").write_text(
        textwrap.dedent(header) + textwrap.indent(textwrap.dedent(body), "    ")
    )


def _tasks_of(af: Airflow, dag_id: str) -> set[str]:
    response = af.client().get(f"{af.url}/api/v2/dags/{dag_id}/tasks", timeout=30)
    return {t["task_id"] for t in response.json().get("tasks", [])} if response.ok else set()


def test_lots_that_cannot_get_a_run_fail_alone_with_their_reason(airflow: Airflow):
    two_tasks = """
        @task(task_id="a")
        def a():
            return 1

        @task(task_id="b")
        def b():
            return 2

        a() >> b()
    """
    _write_dag(airflow, "dyn_changing", two_tasks)
    _write_dag(airflow, "dyn_deleted", two_tasks)
    airflow.wait_for_dags("dyn_changing", "dyn_deleted")
    days = {"ranges": [{"start": "2024-01-01", "end": "2024-01-03"}], "paused": True}
    submit(airflow, {"dag_id": "dyn_changing", "name": "gone-task", "tasks": {"include": ["b"]}, **days})
    submit(airflow, {"dag_id": "dyn_changing", "name": "bad-conf", "conf": {"n": "x"}, **days})
    submit(airflow, {"dag_id": "dyn_deleted", "name": "gone-dag", **days})
    (airflow.dags_folder / "dyn_changing.py").write_text(
        (airflow.dags_folder / "dyn_changing.py")
        .read_text()
        .replace(
            "is_paused_upon_creation=False)",
            'is_paused_upon_creation=False, params={"n": Param(1, type="integer")})',
        )
        .replace('@task(task_id="b")', '@task(task_id="c")')
        .replace("a() >> b()", "a() >> b()  # b is now task c")
    )
    (airflow.dags_folder / "dyn_deleted.py").unlink()
    airflow.reparse("dyn_changing")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and "b" in _tasks_of(airflow, "dyn_changing"):
        time.sleep(2)
    assert _tasks_of(airflow, "dyn_changing") == {"a", "c"}
    while (
        time.monotonic() < deadline
        and airflow.api("GET", "/api/v2/dags/dyn_deleted").get("is_stale") is not True
    ):
        time.sleep(2)
    for name in ("gone-task", "bad-conf", "gone-dag"):
        assert airflow.client().post(f"{airflow.url}{API}/plans/{name}/resume").status_code == 200
    reasons = {"gone-task": "task selection", "bad-conf": "n", "gone-dag": "dyn_deleted"}
    for name, words in reasons.items():
        plan = wait_for(airflow, name, timeout=120)
        assert plan["state"] == "failed", plan
        for lot in lots(airflow, name):
            assert lot["state"] == "failed" and words in lot["reason"], lot
            assert lot["run_id"] is None
    # a failed lot is not tried again at every pass: its timeline ends once in failed
    detail = get(airflow, "/plans/bad-conf/lots/0")
    assert [t["state"] for t in detail["timeline"]] == ["pending", "failed"]


# -- 8. adopting a run re-applies this plan ------------------------------------------------------


def test_a_lot_that_takes_over_a_cancelled_plans_run_runs_on_this_plans_terms(airflow: Airflow):
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    airflow.api("POST", "/api/v2/pools", json={"name": "adopt_pool", "slots": 4})
    submit(airflow, {"dag_id": "ledger_fail", "name": "waits-today", "lot": "1d", "dates": [today]})
    lot = wait_lot(airflow, "waits-today", 0, "waiting")
    assert lot["state"] == "waiting" and "data time ends" in lot["reason"], lot
    assert (
        airflow.client().post(f"{airflow.url}{API}/plans/waits-today/cancel").json()["state"] == "cancelled"
    )
    submit(
        airflow,
        {
            "dag_id": "ledger_fail",
            "name": "runs-today",
            "lot": "1d",
            "dates": [today],
            "run_future": "now",
            "reprocess": "all",
            "conf": {"source": "adopted"},
            "pool": "adopt_pool",
            "priority_weight": 7,
            "tasks": {"exclude": ["b"]},
        },
    )
    assert wait_for(airflow, "runs-today", timeout=180)["state"] == "success"
    (adopted,) = lots(airflow, "runs-today")
    assert adopted["run_id"] == lots(airflow, "waits-today")[0]["run_id"], "the old run was taken over"
    run = airflow.api("GET", f"/api/v2/dags/ledger_fail/dagRuns/{adopted['run_id']}")
    assert run["conf"]["source"] == "adopted"
    tis = task_instances(airflow, "ledger_fail", adopted["run_id"])
    assert (tis["a"]["pool"], tis["a"]["priority_weight"]) == ("adopt_pool", 7)
    assert tis["b"]["state"] == "success" and "runs-today" in (tis["b"]["note"] or "")
    ran = [e["task_id"] for e in airflow.ledger_entries() if e["run_id"] == adopted["run_id"]]
    assert sorted(ran) == ["a", "c"]


# -- 9. dry-run means never executed -------------------------------------------------------------


def test_a_dry_run_mapped_task_runs_none_of_its_map_indexes(airflow: Airflow):
    submit(
        airflow,
        {
            "dag_id": "ledger_mapped",
            "name": "dry-mapped",
            "dates": ["2024-03-03"],
            "tasks": {"exclude": ["each"]},
        },
    )
    assert wait_for(airflow, "dry-mapped")["state"] == "success"
    assert sorted(e["task_id"] for e in ledger(airflow, "dry-mapped")) == ["after", "split"]
    (lot,) = lots(airflow, "dry-mapped")
    found = airflow.api(
        "GET", f"/api/v2/dags/ledger_mapped/dagRuns/{lot['run_id']}/taskInstances", params={"limit": 100}
    )
    each = [ti for ti in found["task_instances"] if ti["task_id"] == "each"]
    assert each and {ti["state"] for ti in each} == {"success"}


def test_a_dry_run_task_cleared_from_the_ui_still_does_not_run(airflow: Airflow):
    submit(
        airflow,
        {
            "dag_id": "ledger_daily",
            "name": "dry-cleared",
            "dates": ["2024-03-09"],
            "tasks": {"exclude": ["b"]},
        },
    )
    assert wait_for(airflow, "dry-cleared")["state"] == "success"
    (lot,) = lots(airflow, "dry-cleared")
    airflow.api(
        "POST",
        "/api/v2/dags/ledger_daily/clearTaskInstances",
        json={
            "dry_run": False,
            "task_ids": ["b"],
            "dag_run_id": lot["run_id"],
            "only_failed": False,
            "include_downstream": False,
        },
    )
    assert wait_run(airflow, "ledger_daily", lot["run_id"]) == "success"
    tis = task_instances(airflow, "ledger_daily", lot["run_id"])
    assert tis["b"]["state"] == "success" and tis["b"]["try_number"] >= 1, tis["b"]
    assert [e["task_id"] for e in ledger(airflow, "dry-cleared")].count("b") == 0


# -- 10. depends_on_past never hangs a plan ------------------------------------------------------


def test_depends_on_past_is_refused_where_it_would_hang_and_runs_where_it_holds(airflow: Airflow):
    base = {"dag_id": "ledger_past", "ranges": [{"start": "2024-02-04", "end": "2024-02-06"}]}
    for extra, loc in (({"order": "desc"}, "order"), ({"self_dependency": "off"}, "self_dependency")):
        for query in ("?preview=true", ""):
            response = airflow.client().post(f"{airflow.url}{API}/plans{query}", json={**base, **extra})
            assert response.status_code == 422, response.text
            assert [f["loc"] for f in response.json()["error"]["fields"]] == [loc]
    # an earlier interval failed outside the plan: the plan's first lot is still free to start
    failed = airflow.api(
        "POST", "/api/v2/dags/ledger_past/dagRuns", json={"logical_date": "2024-02-03T00:00:00Z"}
    )
    assert wait_run(airflow, "ledger_past", failed["dag_run_id"]) == "failed"
    submit(airflow, {**base, "name": "past-asc", "parallelism": 3})
    assert wait_for(airflow, "past-asc", timeout=240)["state"] == "success"
    assert sorted(e["ds"] for e in ledger(airflow, "past-asc")) == ["2024-02-04", "2024-02-05", "2024-02-06"]
