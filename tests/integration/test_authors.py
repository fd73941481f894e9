"""For DAG authors (contract §6): operator, sensor, hook, notify — against a real Airflow with real auth."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from airflow_backfill_provider.hooks.backfill import BackfillApiError, BackfillHook
from tests.integration.harness import USERS, Airflow, free_port
from tests.integration.plans import API, get, ledger, lots, notifications, submit, wait_for


def connection(airflow: Airflow, user: str = "admin") -> dict:
    login, password = USERS[user]
    return {"conn_type": "backfill", "host": airflow.url, "login": login, "password": password}


@pytest.fixture
def hook(airflow: Airflow, monkeypatch: pytest.MonkeyPatch) -> BackfillHook:
    monkeypatch.setenv("AIRFLOW_CONN_BACKFILL_TEST", json.dumps(connection(airflow)))
    return BackfillHook("backfill_test", retries=1)


def default_connection(airflow: Airflow) -> None:
    """``backfill_default``, the DAG author's tasks' connection, as admin."""
    existing = airflow.client().get(f"{airflow.url}/api/v2/connections/backfill_default")
    if existing.status_code == 404:
        airflow.api(
            "POST", "/api/v2/connections", json={"connection_id": "backfill_default", **connection(airflow)}
        )


def task_states(airflow: Airflow, dag_id: str, run_id: str, task_id: str, timeout: float) -> list[str]:
    """The states the task instance went through (as polled) until its run ended."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ti = airflow.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")
        if not seen or seen[-1] != ti["state"]:
            seen.append(ti["state"])
        if airflow.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"] in ("success", "failed"):
            return seen
        time.sleep(1)
    return seen


def test_operator_submits_a_templated_plan_waits_deferred_and_the_sensor_confirms(airflow: Airflow):
    default_connection(airflow)
    run = airflow.api(
        "POST",
        "/api/v2/dags/ledger_author/dagRuns",
        json={"logical_date": "2024-09-10T00:00:00Z", "dag_run_id": "author_run"},
    )
    deadline = time.monotonic() + 240
    deferred_seen = False
    while time.monotonic() < deadline:
        state = airflow.api("GET", f"/api/v2/dags/ledger_author/dagRuns/{run['dag_run_id']}")["state"]
        submit = airflow.api("GET", "/api/v2/dags/ledger_author/dagRuns/author_run/taskInstances/submit")
        deferred_seen = deferred_seen or submit["state"] == "deferred"
        if state in ("success", "failed"):
            break
        time.sleep(1)
    assert state == "success", airflow.log_tail("scheduler", 40)
    assert deferred_seen, "the operator waited on a worker instead of deferring"
    plan = get(airflow, "/plans/author-20240910")
    assert plan["state"] == "success" and plan["total_lots"] == 2
    assert sorted(e["start"] for e in ledger(airflow, "author-20240910")) == [
        "2024-09-09T00:00:00+00:00",
        "2024-09-09T12:00:00+00:00",
    ]
    assert plan["created_by"] == "admin"
    links = airflow.api("GET", "/api/v2/dags/ledger_author/dagRuns/author_run/taskInstances/submit/links")
    assert links["extra_links"]["Backfill plan"].endswith("/plugin/backfill-plans?plan=author-20240910"), (
        links
    )


def test_a_deferred_sensor_fails_after_its_timeout_on_a_plan_that_does_not_end(airflow: Airflow):
    default_connection(airflow)
    submit(
        airflow,
        {
            "dag_id": "ledger_hourly",
            "name": "held",
            "lot": "12h",
            "ranges": [{"start": "2024-11-01", "end": "2024-11-05"}],
        },
    )
    assert airflow.api("POST", f"{API}/plans/held/pause")["state"] == "paused"
    run = airflow.api(
        "POST",
        "/api/v2/dags/ledger_author_timeout/dagRuns",
        json={"logical_date": None, "dag_run_id": "sensor_timeout", "conf": {"plan": "held"}},
    )
    states = task_states(airflow, "ledger_author_timeout", run["dag_run_id"], "wait", timeout=120)
    assert states[-1] == "failed" and "deferred" in states, states
    assert get(airflow, "/plans/held")["state"] == "paused"  # the sensor gave up; the plan is untouched
    airflow.api("POST", f"{API}/plans/held/cancel")


def test_notify_calls_each_notifier_once_when_the_plan_ends(airflow: Airflow):
    airflow.api(
        "POST",
        f"{API}/plans",
        json={
            "dag_id": "ledger_hourly",
            "name": "notified",
            "lot": "12h",
            "dates": ["2024-10-01"],
            "parallelism": 2,
            "notify": {"on": ["success"], "targets": ["ledger", "sms"]},
        },
    )
    assert wait_for(airflow, "notified")["state"] == "success"
    calls = notifications(airflow, "notified")
    assert sorted((c["notifier"], c["state"]) for c in calls) == [("ledger", "success"), ("sms", "success")]


def test_twenty_concurrent_submissions_of_one_plan_create_one_plan(airflow: Airflow):
    body = {"dag_id": "ledger_daily", "name": "concurrent", "dates": ["2024-11-01"], "paused": True}
    results: list[requests.Response] = []
    token = airflow.token()

    def post() -> None:
        results.append(
            requests.post(
                f"{airflow.url}{API}/plans",
                json=body,
                timeout=120,
                headers={"Authorization": f"Bearer {token}"},
            )
        )

    threads = [threading.Thread(target=post) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] * 19 + [201], [r.text for r in results if r.status_code not in (200, 201)]
    assert len({r.json()["plan"]["id"] for r in results}) == 1
    assert get(airflow, "/plans", dag_id="ledger_daily", state="paused")["total"] >= 1
    assert len([p for p in get(airflow, "/plans", limit=1000)["plans"] if p["name"] == "concurrent"]) == 1
    airflow.client().post(f"{airflow.url}{API}/plans/concurrent/cancel")


def test_hook_reads_and_steers_and_raises_clear_errors(airflow: Airflow, hook: BackfillHook):
    created = hook.create_plan(
        {"dag_id": "ledger_daily", "name": "hooked", "dates": ["2024-12-01"], "paused": True}
    )
    assert created["created"] is True and created["plan"]["state"] == "paused"
    assert hook.get_plan("hooked")["id"] == created["plan"]["id"]
    assert hook.get_lots("hooked")["total"] == 1
    assert hook.list_plans(dag_id="ledger_daily")["total"] >= 1
    with pytest.raises(BackfillApiError) as bad:
        hook.create_plan({"dag_id": "ledger_daily", "dates": ["2024-12-01"], "parallelism": 0})
    assert bad.value.status_code == 422 and [f.loc for f in bad.value.fields] == ["parallelism"]
    with pytest.raises(BackfillApiError) as missing:
        hook.get_plan("no-such-plan")
    assert missing.value.status_code == 404
    first_token = hook._token
    hook._token_expires = 0  # as if it had expired: the next call must fetch a new one
    time.sleep(1.1)  # JWTs carry whole seconds
    assert hook.cancel("hooked")["state"] == "cancelled"
    assert hook._token and hook._token != first_token


def test_the_connection_forms_test_button(
    airflow: Airflow, monkeypatch: pytest.MonkeyPatch, hook: BackfillHook
):
    ok, message = hook.test_connection()
    assert ok, message
    monkeypatch.setenv(
        "AIRFLOW_CONN_BACKFILL_WRONG", json.dumps({**connection(airflow), "password": "wrong"})
    )
    ok, message = BackfillHook("backfill_wrong", retries=0).test_connection()
    assert not ok and "401" in message
    # and as Airflow's own API runs it (the connection form's Test button)
    tested = airflow.client().post(
        f"{airflow.url}/api/v2/connections/test",
        json={"connection_id": "any", **connection(airflow)},
        timeout=60,
    )
    assert tested.status_code == 200 and tested.json()["status"] is True, tested.text


def test_hook_as_viewer_is_refused_with_403(airflow: Airflow, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AIRFLOW_CONN_BACKFILL_VIEWER", json.dumps(connection(airflow, "viewer")))
    viewer = BackfillHook("backfill_viewer")
    with pytest.raises(BackfillApiError) as refused:
        viewer.create_plan({"dag_id": "ledger_daily", "dates": ["2024-12-02"]})
    assert refused.value.status_code == 403


def test_hook_retries_connection_errors_then_raises(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_BACKFILL_NOWHERE",
        json.dumps({"conn_type": "backfill", "host": f"http://127.0.0.1:{free_port()}"}),
    )
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        BackfillHook("backfill_nowhere", retries=2).get_plan("x")
    assert time.monotonic() - started >= 3  # two pauses, 1 s then 2 s


def test_lot_detail_names_the_error_of_a_failed_try(airflow: Airflow):
    airflow.api(
        "POST", f"{API}/plans", json={"dag_id": "ledger_fail", "name": "why-failed", "dates": ["2024-02-10"]}
    )
    assert wait_for(airflow, "why-failed")["state"] == "failed"
    detail = get(airflow, "/plans/why-failed/lots/0")
    failed = next(ti for ti in detail["task_instances"] if ti["state"] == "failed")
    assert "failing on purpose for 2024-02-10" in failed["error"]
    assert [t["state"] for t in detail["timeline"]][-1] == "failed"
    assert lots(airflow, "why-failed")[0]["state"] == "failed"


def test_openapi_document_lists_every_call(airflow: Airflow):
    document = airflow.client(None).get(f"{airflow.url}/backfill/openapi.json").json()
    assert set(document["paths"]) >= {
        "/api/v1/plans",
        "/api/v1/plans/{plan}",
        "/api/v1/plans/{plan}/lots",
        "/api/v1/plans/{plan}/lots/{index}",
        "/api/v1/plans/{plan}/pause",
        "/api/v1/plans/{plan}/resume",
        "/api/v1/plans/{plan}/cancel",
        "/api/v1/plans/{plan}/retry",
    }
    body = document["paths"]["/api/v1/plans"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/BackfillPlan"}
    plan = document["components"]["schemas"]["BackfillPlan"]
    assert {"dag_id", "parallelism", "parent_check", "tasks"} <= set(plan["properties"])
    assert (
        "none: a lot looks at nothing outside the plan" in plan["properties"]["parent_check"]["description"]
    )
    assert "contract" not in json.dumps(document)  # it speaks for itself: no document outside the package
