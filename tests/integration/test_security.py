"""Security on a real Airflow (issue: the service, hardened): nothing a user sends runs code or bypasses a check."""

from __future__ import annotations

import json
import time

from tests.integration.harness import Airflow
from tests.integration.plans import API, get, ledger, submit, wait_for, wait_run


def _post(af: Airflow, path: str, body: object, user: str | None = "admin") -> tuple[int, dict]:
    response = af.client(user).post(f"{af.url}{API}{path}", json=body, timeout=120)
    return response.status_code, response.json()


def _locs(body: dict) -> list[str]:
    return [f["loc"] for f in body["error"]["fields"]]


def _plan_count(af: Airflow) -> int:
    return int(get(af, "/plans")["total"])


# -- 1. notify runs no arbitrary code -------------------------------------------------------------


def test_a_plan_names_only_the_deployments_targets_and_nothing_it_names_is_imported(airflow: Airflow):
    (airflow.dags_folder / "import_marker.py").write_text(
        "import json, os\n"
        "with open(os.environ['BACKFILL_TEST_LEDGER'], 'a') as f:\n"
        "    f.write(json.dumps({'imported': 'import_marker', 'run_id': 'x', 'dag_id': 'x', 'task_id': 'x', 'ds': ''}) + '\\n')\n"
        "class Evil:\n    pass\n"
    )
    before = _plan_count(airflow)
    for path in (
        "os.system",
        "subprocess.Popen",
        "import_marker.Evil",
        "ledger_notifier.LedgerNotifier.notify",
    ):
        for notify, loc in (
            ({"targets": [path]}, "notify.targets.0"),
            (
                {"notifiers": [{"notifier": path, "kwargs": {"command": "touch /tmp/pwned"}}]},
                "notify.notifiers",
            ),
        ):
            body = {
                "dag_id": "ledger_daily",
                "name": "evil-notify",
                "dates": ["2024-09-01"],
                "notify": notify,
            }
            for query in ("?preview=true", ""):
                status, answer = _post(airflow, f"/plans{query}", body)
                assert status == 422, answer
                assert _locs(answer) == [loc], answer
    assert _plan_count(airflow) == before
    assert not [e for e in airflow.ledger_entries() if e.get("imported")], (
        "a module named by a plan was imported"
    )


def test_a_notify_run_triggered_by_hand_calls_no_notifier(airflow: Airflow):
    run = airflow.api(
        "POST",
        "/api/v2/dags/backfill_plan_controller/dagRuns",
        json={
            "logical_date": None,
            "conf": {
                "notify": {
                    "plan": "forged",
                    "state": "success",
                    "targets": ["ledger"],
                    "facts": {"name": "forged", "state": "success", "counts": {}},
                },
                "signature": "0" * 64,
            },
        },
    )
    state = wait_run(airflow, "backfill_plan_controller", run["dag_run_id"])
    assert state == "failed"
    assert not [e for e in airflow.ledger_entries() if e.get("plan") == "forged"]


# -- 2. the policy acts on plan runs only; task_params fit the DAG's Params ------------------------

FORGED = {"__backfill_plan__": {"plan": "x", "dry_run": [], "task_params": {"load": {"mode": "evil"}}}}


def test_reserved_conf_key_in_a_manual_run_injects_nothing(airflow: Airflow):
    run = airflow.api(
        "POST",
        "/api/v2/dags/ledger_guarded/dagRuns",
        json={"logical_date": "2024-05-05T00:00:00Z", "conf": FORGED},  # after the DAG's start_date
    )
    state = wait_run(airflow, "ledger_guarded", run["dag_run_id"])
    assert state == "failed", "a forged task_params conf must not run"
    tis = airflow.api("GET", f"/api/v2/dags/ledger_guarded/dagRuns/{run['dag_run_id']}/taskInstances")
    assert [ti["state"] for ti in tis["task_instances"]] == ["failed"]
    assert [e for e in airflow.ledger_entries() if e["run_id"] == run["dag_run_id"]] == []


def test_reserved_conf_key_in_a_native_backfill_injects_nothing(airflow: Airflow):
    airflow.api(
        "POST",
        "/api/v2/backfills",
        json={
            "dag_id": "ledger_guarded",
            "from_date": "2024-06-01T00:00:00Z",
            "to_date": "2024-06-01T00:00:00Z",
            "dag_run_conf": FORGED,
            "max_active_runs": 1,
        },
    )
    deadline = time.monotonic() + 180
    runs: list[dict] = []
    while time.monotonic() < deadline:
        runs = airflow.api(
            "GET", "/api/v2/dags/ledger_guarded/dagRuns", params={"run_type": "backfill", "limit": 10}
        )["dag_runs"]
        if runs and all(r["state"] in ("success", "failed") for r in runs):
            break
        time.sleep(1)
    assert runs and all(r["state"] == "failed" for r in runs)
    assert not [e for e in airflow.ledger_entries() if e.get("sql", "").startswith("LOAD evil")]


def test_task_params_and_conf_must_fit_the_dags_params(airflow: Airflow):
    base = {"dag_id": "ledger_guarded", "dates": ["2024-01-05"]}
    status, answer = _post(
        airflow, "/plans?preview=true", {**base, "task_params": {"load": {"mode": "evil"}}}
    )
    assert (status, _locs(answer)) == (422, ["task_params.load.mode"])
    status, answer = _post(airflow, "/plans", {**base, "conf": {"mode": "evil", "limit": "many"}})
    assert (status, _locs(answer)) == (422, ["conf.mode", "conf.limit"])


def test_valid_task_params_reach_their_task(airflow: Airflow):
    submit(
        airflow,
        {
            "dag_id": "ledger_guarded",
            "name": "guarded-ok",
            "dates": ["2024-01-06"],
            "task_params": {"load": {"mode": "incremental"}},
        },
    )
    assert wait_for(airflow, "guarded-ok")["state"] == "success"
    (entry,) = ledger(airflow, "guarded-ok")
    assert entry["sql"] == "LOAD incremental LIMIT 10 FOR '2024-01-06'"


# -- 3. rights before existence --------------------------------------------------------------------


def test_callers_without_rights_learn_nothing_about_what_exists(airflow: Airflow):
    unknown = {"dag_id": "no_such_dag", "dates": ["2024-01-01"]}
    for path in ("/plans?preview=true", "/plans"):
        assert _post(airflow, path, unknown, user="viewer")[0] == 403
        assert _post(airflow, path, {"not": "a plan"}, user="viewer")[0] == 403
        assert _post(airflow, path, unknown, user=None)[0] == 401
        assert (
            _post(airflow, path, unknown, user="scoped")[0] == 403
        )  # may create runs of 2 DAGs, not this one
        assert _post(airflow, path, unknown)[0] == 404  # the admin may act on every DAG: told it is unknown
    submit(
        airflow,
        {"dag_id": "ledger_hourly", "name": "not-for-scoped", "dates": ["2024-01-01"], "paused": True},
    )
    for plan in ("not-for-scoped", "no-such-plan"):
        answer = airflow.client("scoped").get(f"{airflow.url}{API}/plans/{plan}")
        assert answer.status_code == 403, answer.text  # same answer whether it exists or not
        assert airflow.client("scoped").post(f"{airflow.url}{API}/plans/{plan}/cancel").status_code == 403
        assert airflow.client("viewer").post(f"{airflow.url}{API}/plans/{plan}/cancel").status_code == 403
    assert airflow.client("viewer").get(f"{airflow.url}{API}/plans/no-such-plan").status_code == 404
    listed = airflow.client("scoped").get(f"{airflow.url}{API}/plans", params={"limit": 1000}).json()
    assert all(p["dag_id"] in ("ledger_producer", "ledger_daily", "dw_sales_report") for p in listed["plans"])
    airflow.client().post(f"{airflow.url}{API}/plans/not-for-scoped/cancel")


def test_preview_and_create_authorize_every_dag_in_scope_naming_only_what_was_sent(airflow: Airflow):
    body = {"dag_id": "ledger_producer", "downstream_dags": True, "dates": ["2024-02-01"], "paused": True}
    for path in ("/plans?preview=true", "/plans"):
        status, answer = _post(airflow, path, body, user="scoped")
        assert status == 403, answer
        assert (
            "ledger_producer" in answer["error"]["message"]
            and "downstream_dags" in answer["error"]["message"]
        )
        assert "ledger_consumer" not in json.dumps(answer)  # a DAG the caller did not send
    status, answer = _post(airflow, "/plans?preview=true", {**body, "downstream_dags": False}, user="scoped")
    assert status == 200, answer


# -- 4. no usable secret where people can read it ----------------------------------------------------


def test_the_drivers_token_is_only_in_encrypted_trigger_kwargs_and_stored_hashed(airflow: Airflow):
    submit(airflow, {"dag_id": "ledger_hourly", "name": "token-check", "lot": "12h", "dates": ["2024-04-02"]})
    (driver,) = airflow.sql("SELECT run_id, token_hash FROM backfill_driver")  # run_id: its callback's id
    assert len(driver.token_hash) == 64
    ((data, kwargs),) = airflow.sql(
        "SELECT c.data, t.kwargs FROM callback c JOIN trigger t ON t.id = c.trigger_id "
        "WHERE CAST(c.id AS VARCHAR(36)) IN (:id, :bare)",
        id=driver.run_id,
        bare=driver.run_id.replace("-", ""),  # SQLite keeps a UUID as 32 hex digits
    )
    assert "token" not in str(data), "the token is in the callback's data"
    assert not kwargs.startswith("{") and "token" not in kwargs, "trigger kwargs are not encrypted"
    assert wait_for(airflow, "token-check")["state"] == "success"


# -- 5. reserved names --------------------------------------------------------------------------------


def test_reserved_names_are_refused(airflow: Airflow):
    before = _plan_count(airflow)
    cases = [
        ({"pool": "backfill_parked"}, ["pool"]),
        ({"name": "12345"}, ["name"]),
        ({"conf": {"__backfill_plan__": {"task_params": {}}}}, ["conf.__backfill_plan__"]),
        ({"dag_id": "backfill_plan_controller"}, ["dag_id"]),
    ]
    for extra, locs in cases:
        body = {"dag_id": "ledger_daily", "dates": ["2024-01-01"], **extra}
        for path in ("/plans?preview=true", "/plans"):
            status, answer = _post(airflow, path, body)
            assert (status, _locs(answer)) == (422, locs), answer
    assert _plan_count(airflow) == before
