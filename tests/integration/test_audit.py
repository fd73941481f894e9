"""Airflow's audit log (issue 20, item 6): each action on a plan is a ``Log`` record of every DAG in
its scope, with the user and the plan, whether it came from the REST API, the page or the CLI."""

from __future__ import annotations

import json

import requests

from tests.integration.harness import Airflow
from tests.integration.plans import API, submit


def _events(af: Airflow, dag_id: str, name: str) -> list[tuple[str, str]]:
    found = af.api("GET", "/api/v2/eventLogs", params={"dag_id": dag_id, "limit": 100, "order_by": "-id"})
    return [
        (e["event"], e["owner"])
        for e in reversed(found["event_logs"])
        if e["event"].startswith("backfill_plan_") and json.loads(e["extra"] or "{}").get("plan") == name
    ]


def test_every_action_on_a_plan_is_in_the_dags_audit_log_with_its_user(airflow: Airflow):
    plan = submit(
        airflow,
        {
            "dag_id": "ledger_producer",
            "name": "audited",
            "dates": ["2024-12-01"],
            "downstream_dags": True,
            "paused": True,
        },
        user="author",
    )
    resumed = airflow.airflow("backfill-plans", "resume", plan["name"], "--output", "json", check=False)
    assert resumed.returncode == 0, resumed.stderr
    assert airflow.client().post(f"{airflow.url}{API}/plans/audited/pause", timeout=60).status_code == 200
    page = requests.Session()  # the page: the session cookie and a JSON content type
    page.cookies.set("_token", airflow.token("admin"))
    assert page.post(f"{airflow.url}{API}/plans/audited/cancel", json={}, timeout=60).status_code == 200
    retried = airflow.client("author").post(f"{airflow.url}{API}/plans/audited/retry", json={}, timeout=60)
    assert retried.status_code == 200, retried.text
    airflow.client().post(f"{airflow.url}{API}/plans/audited/cancel", timeout=60)
    expected = [
        ("backfill_plan_create", "author"),
        (
            "backfill_plan_resume",
            next(o for e, o in _events(airflow, "ledger_producer", "audited") if e.endswith("resume")),
        ),
        ("backfill_plan_pause", "admin"),
        ("backfill_plan_cancel", "admin"),
        ("backfill_plan_retry", "author"),
        ("backfill_plan_cancel", "admin"),
    ]
    for dag_id in ("ledger_producer", "ledger_consumer"):  # every DAG in the plan's scope
        assert _events(airflow, dag_id, "audited") == expected, dag_id
    assert expected[1][1].startswith("cli:")
