"""Trust, round 2 (issue 18): a plan author gets nothing beyond their own Airflow rights.

``author`` has Airflow's USER role: may trigger and clear runs, may not read variables or connections.
"""

from __future__ import annotations

import json
import time

import requests

from tests.integration.harness import Airflow
from tests.integration.plans import (
    API,
    get,
    ledger,
    notifications,
    submit,
    task_instances,
    wait_for,
    wait_run,
)

SECRET_VAR, SECRET_CONN = "trust_secret_var", "trust_secret_conn"
SMTP = "airflow.providers.smtp.notifications.smtp.SmtpNotifier"
"""a notifier class a plan author might name to pick its own recipients"""


def _plans(af: Airflow) -> int:
    return int(get(af, "/plans")["total"])


def _secrets(af: Airflow) -> None:
    """A variable and a connection the admin keeps; the author may not read either."""
    if af.client().get(f"{af.url}/api/v2/variables/{SECRET_VAR}", timeout=30).status_code == 404:
        af.api("POST", "/api/v2/variables", json={"key": SECRET_VAR, "value": "VAR-SECRET-1"})
        af.api(
            "POST",
            "/api/v2/connections",
            json={"connection_id": SECRET_CONN, "conn_type": "http", "password": "CONN-SECRET-1"},
        )
    author = af.client("author")
    assert author.get(f"{af.url}/api/v2/variables/{SECRET_VAR}", timeout=30).status_code == 403
    assert author.get(f"{af.url}/api/v2/connections/{SECRET_CONN}", timeout=30).status_code == 403


# -- 1. a plan sends data, never a template; recipients are the deployment's ------------------------


def test_a_plan_sets_no_notifier_argument_recipient_class_or_template(airflow: Airflow):
    author = airflow.client("author")
    before = _plans(airflow)
    recipients = [f"x{i}@outside.example" for i in range(1500)]
    for notify, loc in (
        (
            {"notifiers": [{"notifier": SMTP, "kwargs": {"to": recipients, "html_content": "<b>hi</b>"}}]},
            "notify.notifiers",
        ),
        (
            {"notifiers": [{"notifier": "ledger", "kwargs": {"label": "{{ '%0100000000d' % 1 }}"}}]},
            "notify.notifiers",
        ),
        ({"targets": ["ledger"], "kwargs": {"to": "x@outside.example"}}, "notify.kwargs"),
        ({"targets": ["no-such-target"]}, "notify.targets.0"),
        ({"targets": [SMTP]}, "notify.targets.0"),
        ({"targets": ["{{ var.value." + SECRET_VAR + " }}"]}, "notify.targets.0"),
    ):
        body = {"dag_id": "ledger_daily", "name": "trust-notify", "dates": ["2024-10-02"], "notify": notify}
        for query in ("?preview=true", ""):
            response = author.post(f"{airflow.url}{API}/plans{query}", json=body, timeout=60)
            assert response.status_code == 422, (notify, response.text)
            assert [f["loc"] for f in response.json()["error"]["fields"]] == [loc], response.text
            assert len(response.content) < 64 * 1024
    assert _plans(airflow) == before


def test_a_notification_is_the_providers_text_of_the_plans_fields_with_nothing_rendered(airflow: Airflow):
    _secrets(airflow)
    # what a plan author writes is data: a template in the title is text in the message
    title = "{{ '%0100000000d' % 1 }} {{ var.value." + SECRET_VAR + " }}"
    plan = submit(
        airflow,
        {
            "dag_id": "ledger_fail",
            "name": "trust-notify-text",
            "title": title,
            "dates": ["2024-11-09"],
            "notify": {"on": ["failure"], "targets": ["ledger"]},
        },
        user="author",
    )
    assert wait_for(airflow, plan["name"])["state"] == "failed"
    calls = notifications(airflow, plan["name"])
    assert [(c["notifier"], c["state"]) for c in calls] == [("ledger", "failed")], calls
    subject, message = calls[0]["subject"], calls[0]["message"]
    assert title in subject and "trust-notify-text" in subject and "failed" in subject
    assert "lot 0 (" in message and "/plugin/backfill-plans?plan=trust-notify-text" in message
    assert title in message and len(message) < 10_000
    assert "VAR-SECRET-1" not in json.dumps(airflow.ledger_entries())


# -- 2. the session cookie alone changes nothing --------------------------------------------------


def test_the_session_cookie_alone_creates_and_steers_nothing(airflow: Airflow):
    cookie = requests.Session()
    cookie.cookies.set("_token", airflow.token("admin"))
    body = {"dag_id": "ledger_daily", "name": "trust-csrf", "dates": ["2024-10-05"]}
    before = _plans(airflow)
    # a top-level GET from any site: never a create
    answer = cookie.get(
        f"{airflow.url}/backfill/compat/dms/",
        params={"Action": "BackFill", "DagId": "dms_flow", "BackFillDate": "2024-10-05"},
        timeout=60,
    )
    assert answer.status_code == 405, answer.text
    # a form or text/plain POST, as another site's page can send with the cookie
    text = cookie.post(
        f"{airflow.url}{API}/plans", data=json.dumps(body), headers={"Content-Type": "text/plain"}, timeout=60
    )
    assert text.status_code == 415, text.text
    form = cookie.post(
        f"{airflow.url}/backfill/compat/dms/BackFill",
        data={"DagId": "dms_flow", "BackFillDate": "2024-10-05"},
        timeout=60,
    )
    assert form.status_code == 415, form.text
    rpc = cookie.post(
        f"{airflow.url}/backfill/compat/dms/",
        params={"Action": "BackFill", "DagId": "dms_flow", "BackFillDate": "2024-10-05"},
        timeout=60,
    )
    assert rpc.status_code == 415, rpc.text
    assert _plans(airflow) == before
    # steering: a plan held by the admin cannot be cancelled by a cross-site form
    held = submit(airflow, {**body, "name": "trust-csrf-held", "paused": True})
    cancel = cookie.post(f"{airflow.url}{API}/plans/{held['name']}/cancel", timeout=60)
    assert cancel.status_code == 415, cancel.text
    assert get(airflow, f"/plans/{held['name']}")["state"] == "paused"
    # what the page sends (the cookie and a JSON content type) works, and so does a script's header
    page = cookie.post(f"{airflow.url}{API}/plans/{held['name']}/cancel", json={}, timeout=60)
    assert page.status_code == 200, page.text
    plain = airflow.client().post(
        f"{airflow.url}{API}/plans", data=json.dumps(body), headers={"Content-Type": "text/plain"}, timeout=60
    )
    assert plain.status_code == 415, "a plan is JSON, whoever sends it"


# -- 3. dry-run only when the service signed it ---------------------------------------------------


def _manual_run(af: Airflow, dag_id: str, day: str, conf: dict) -> str:
    run = af.api(
        "POST", f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": f"{day}T00:00:00Z", "conf": conf}
    )
    return str(run["dag_run_id"])


def test_a_dry_run_written_by_hand_or_copied_skips_nothing(airflow: Airflow):
    # written by hand: anyone who may trigger the DAG
    forged = {"__backfill_plan__": {"plan": "x", "dry_run": ["a", "b", "c"], "task_params": {}}}
    run_id = _manual_run(airflow, "ledger_daily", "2024-10-11", forged)
    assert wait_run(airflow, "ledger_daily", run_id) == "failed"
    states = {t: ti["state"] for t, ti in task_instances(airflow, "ledger_daily", run_id).items()}
    assert states["a"] == "failed" and states["b"] != "success" and states["c"] != "success", states
    # a plan's own signed conf, copied into another run
    plan = submit(
        airflow,
        {"dag_id": "ledger_daily", "name": "trust-dry", "dates": ["2024-10-12"], "tasks": {"exclude": ["b"]}},
        user="author",
    )
    assert wait_for(airflow, plan["name"])["state"] == "success"
    assert sorted(e["task_id"] for e in ledger(airflow, plan["name"])) == ["a", "c"]  # b dry-run
    lot = get(airflow, f"/plans/{plan['name']}/lots/0")
    conf = airflow.api("GET", f"/api/v2/dags/ledger_daily/dagRuns/{lot['run_id']}")["conf"]
    assert conf["__backfill_plan__"]["dry_run"] == ["b"] and conf["__backfill_plan__"]["signature"]
    copied = _manual_run(airflow, "ledger_daily", "2024-10-13", conf)
    assert wait_run(airflow, "ledger_daily", copied) == "failed"
    states = {t: ti["state"] for t, ti in task_instances(airflow, "ledger_daily", copied).items()}
    assert states["b"] != "success", states
    entries = [e for e in airflow.ledger_entries() if e["run_id"] in (run_id, copied)]
    assert entries == []


# -- 5. rights like Airflow's own API -------------------------------------------------------------


def test_lot_detail_shows_task_instances_and_logs_only_to_whom_airflow_would(airflow: Airflow):
    plan = submit(airflow, {"dag_id": "ledger_fail", "name": "trust-rights", "dates": ["2024-11-07"]})
    assert wait_for(airflow, plan["name"])["state"] == "failed"
    viewer = get(airflow, f"/plans/{plan['name']}/lots/0", user="viewer")
    failed = [ti for ti in viewer["task_instances"] if ti["state"] == "failed"]
    assert failed and "failing on purpose" in (failed[0]["error"] or "")
    auditor = get(airflow, f"/plans/{plan['name']}/lots/0", user="auditor")  # runs yes, task instances no
    assert auditor["state"] == "failed" and auditor["task_instances"] == []
    assert "failing on purpose" not in json.dumps(auditor)


def test_the_plans_list_shows_no_plan_whose_detail_the_user_may_not_read(airflow: Airflow):
    # ledger_producer is the scoped user's; its downstream ledger_consumer is not
    plan = submit(
        airflow,
        {
            "dag_id": "ledger_producer",
            "name": "trust-list",
            "dates": ["2024-10-20"],
            "downstream_dags": True,
            "conf": {"note": "only for whom may read every DAG of the plan"},
            "paused": True,
        },
    )
    scoped = airflow.client("scoped")
    assert scoped.get(f"{airflow.url}{API}/plans/{plan['name']}", timeout=60).status_code == 403
    listed = scoped.get(f"{airflow.url}{API}/plans", params={"limit": 1000}, timeout=60).json()
    assert plan["name"] not in [p["name"] for p in listed["plans"]]
    assert "only for whom" not in json.dumps(listed)
    assert plan["name"] in [p["name"] for p in get(airflow, "/plans", limit=1000)["plans"]]
    airflow.client().post(f"{airflow.url}{API}/plans/{plan['name']}/cancel", timeout=60)


# -- 6. a plan never touches another plan's run ---------------------------------------------------


def test_a_retry_refuses_a_run_another_plan_has_taken(airflow: Airflow):
    first = submit(airflow, {"dag_id": "ledger_fail", "name": "trust-owner", "dates": ["2024-11-08"]})
    first = wait_for(airflow, first["name"])
    assert first["state"] == "failed"
    run_id = get(airflow, f"/plans/{first['name']}/lots/0")["run_id"]
    taker = submit(
        airflow,
        {"dag_id": "ledger_fail", "name": "trust-taker", "dates": ["2024-11-08"], "reprocess": "failed"},
    )
    assert wait_for(airflow, taker["name"])["state"] == "failed"
    assert get(airflow, f"/plans/{taker['name']}/lots/0")["run_id"] == run_id  # adopted
    before = airflow.api("GET", f"/api/v2/dags/ledger_fail/dagRuns/{run_id}")
    retry = airflow.client().post(f"{airflow.url}{API}/plans/{first['name']}/retry", json={}, timeout=60)
    assert retry.status_code == 409, retry.text
    assert "trust-taker" in retry.text and [f["loc"] for f in retry.json()["error"]["fields"]] == ["lots.0"]
    after = airflow.api("GET", f"/api/v2/dags/ledger_fail/dagRuns/{run_id}")
    assert (after["state"], after["conf"], after["end_date"]) == (
        before["state"],
        before["conf"],
        before["end_date"],
    )
    assert get(airflow, f"/plans/{first['name']}")["state"] == "failed"


# -- 7. no plan can stall or break another, or the create call --------------------------------------


def test_lots_starting_in_the_same_second_and_squatted_run_ids_still_run(airflow: Airflow):
    # two ranges whose hourly lots start within one second
    twins = submit(
        airflow,
        {
            "dag_id": "ledger_hourly",
            "name": "trust-twins",
            "lot": "1h",
            "ranges": [
                {"start": "2024-10-20T02:00:00.400", "end": "2024-10-20T02:00:00.600"},
                {"start": "2024-10-20T02:00:00.800", "end": "2024-10-20T03:00:00"},
            ],
        },
    )
    # a run made by hand beforehand under the id a plan's lot would take
    squat_id = "backfill_plan__trust-squat__20241021T000000"
    airflow.api(
        "POST",
        "/api/v2/dags/ledger_daily/dagRuns",
        json={"dag_run_id": squat_id, "logical_date": "2024-10-25T00:00:00Z", "conf": {}},
    )
    squat = submit(airflow, {"dag_id": "ledger_daily", "name": "trust-squat", "dates": ["2024-10-21"]})
    assert wait_for(airflow, twins["name"])["state"] == "success"
    assert wait_for(airflow, squat["name"])["state"] == "success"
    ids = [lot["run_id"] for lot in get(airflow, f"/plans/{twins['name']}/lots")["lots"]]
    assert len(set(ids)) == 2, ids
    assert get(airflow, f"/plans/{squat['name']}/lots/0")["run_id"] == f"{squat_id}__2"
    mine = [e["task_id"] for e in ledger(airflow, squat["name"]) if e["run_id"] == f"{squat_id}__2"]
    assert sorted(mine) == ["a", "b", "c"]
    # a name Airflow would refuse in a run id is refused at create, by field
    bad = airflow.client().post(
        f"{airflow.url}{API}/plans", json={"dag_id": "ledger_daily", "name": "a..b", "dates": ["2024-10-22"]}
    )
    assert bad.status_code == 422 and [f["loc"] for f in bad.json()["error"]["fields"]] == ["name"]


# -- 9. strangers cannot make the driver's route wait -----------------------------------------------


def test_a_stranger_at_the_driver_route_is_refused_without_waiting_for_its_lock(airflow: Airflow):
    import sqlalchemy as sa

    engine = sa.create_engine(airflow.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as conn:
            if sqlite:  # the whole database's write lock, as a writer holds it
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.begin()
                conn.execute(sa.text("SELECT id FROM backfill_driver FOR UPDATE"))
            started = time.monotonic()
            response = requests.post(
                f"{airflow.url}{API}/driver/pass", headers={"X-Backfill-Driver-Token": "guess"}, timeout=30
            )
            waited = time.monotonic() - started
            conn.rollback()
    finally:
        engine.dispose()
    assert response.status_code == 403, response.text
    assert waited < 2, f"the stranger waited {waited:.1f}s for the driver's lock"


# -- 8. a body's limit holds while it streams in --------------------------------------------------


def test_a_chunked_body_over_the_limit_is_refused_without_being_read_whole(airflow: Airflow):
    sent = []

    def chunks():
        yield b'{"dag_id": "ledger_daily", "dates": ["2024-10-02"], "comment": "'
        for _ in range(40):  # 40 x 64 kB = 2.5 MB, with no Content-Length
            sent.append(1)
            yield b"x" * 65536
        yield b'"}'

    before = _plans(airflow)
    response = airflow.client().post(
        f"{airflow.url}{API}/plans", data=chunks(), headers={"Content-Type": "application/json"}, timeout=60
    )
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "too_large"
    assert _plans(airflow) == before
