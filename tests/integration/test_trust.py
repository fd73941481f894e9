"""Trust, round 2 (issue 18): a plan author gets nothing beyond their own Airflow rights.

``author`` has Airflow's USER role: may trigger and clear runs, may not read variables or connections.
"""

from __future__ import annotations

import json

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


def _notify_plan(name: str, notifier: str, kwargs: dict) -> dict:
    return {
        "dag_id": "ledger_daily",
        "name": name,
        "dates": ["2024-10-02"],
        "notify": {"on": ["success"], "notifiers": [{"notifier": notifier, "kwargs": kwargs}]},
    }


# -- 1. notifications carry only what the author may see ------------------------------------------


def test_notification_templates_reach_no_variable_connection_or_task_context(airflow: Airflow):
    _secrets(airflow)
    before = _plans(airflow)
    author = airflow.client("author")
    for label in (
        "{{ var.value." + SECRET_VAR + " }}",
        "{{ conn." + SECRET_CONN + ".password }}",
        "{{ var.json }}",
        "{{ macros.datetime.now() }}",
        "{{ ti.xcom_pull() }}",
        "{{ dag_run.conf }}",
        "{{ plan.name.__class__.__mro__ }}",
        "{{ plan.counts.items() }}",
        "{% for a in plan.url %}{% for b in plan.url %}x{% endfor %}{% endfor %}",
        "{% include '/etc/passwd' %}",
        "{{ 'x' * 999999999 }}",
    ):
        for query in ("?preview=true", ""):
            body = _notify_plan("trust-notify-evil", "ledger_notifier.LedgerNotifier", {"label": label})
            response = author.post(f"{airflow.url}{API}/plans{query}", json=body, timeout=60)
            assert response.status_code == 422, (label, response.text)
            assert [f["loc"] for f in response.json()["error"]["fields"]] == [
                "notify.notifiers.0.kwargs.label"
            ], response.text
            assert "SECRET" not in response.text
    assert _plans(airflow) == before


def test_a_plan_sets_no_file_template_or_connection_argument_of_a_notifier(airflow: Airflow):
    author = airflow.client("author")
    for kwargs in (
        {"files": ["/etc/passwd"]},
        {"template": "/etc/passwd"},
        {"smtp_conn_id": SECRET_CONN},
        {"subject": "ok", "from_email": "x@example.com", "custom_headers": {"X": "1"}},
    ):
        response = author.post(
            f"{airflow.url}{API}/plans", json=_notify_plan("trust-smtp", SMTP, kwargs), timeout=60
        )
        assert response.status_code == 422, response.text
        locs = {f["loc"] for f in response.json()["error"]["fields"]}
        assert locs == {f"notify.notifiers.0.kwargs.{k}" for k in kwargs if k != "subject"}, response.text
    # the test notifier's own arguments are its label only
    response = author.post(
        f"{airflow.url}{API}/plans",
        json=_notify_plan("trust-extra", "ledger_notifier.LedgerNotifier", {"label": "x", "path": "/etc"}),
        timeout=60,
    )
    assert [f["loc"] for f in response.json()["error"]["fields"]] == ["notify.notifiers.0.kwargs.path"]


def test_a_notification_renders_the_plans_own_fields_once_and_nothing_on_the_worker(airflow: Airflow):
    _secrets(airflow)
    # the plan's template yields text that looks like a template: the worker must not render it again
    again = "{{ var.value." + SECRET_VAR + " }}"  # what the worker would render, were it to
    label = "{{ plan.name }}|{{ plan.state }}|{{ plan.counts.success }}|{{ '" + again + "' }}"
    plan = submit(
        airflow,
        _notify_plan("trust-notify-ok", "ledger_notifier.LedgerNotifier", {"label": label}),
        user="author",
    )
    assert wait_for(airflow, plan["name"])["state"] == "success"
    calls = notifications(airflow, plan["name"])
    assert [c["notifier"] for c in calls] == [f"{plan['name']}|success|1|{again}"], calls
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
