"""Trust, round 3: a plan author sends data, never code, and nothing they send costs the service more
than its share or reaches beyond their Airflow rights.

``author`` has Airflow's USER role (may trigger and clear runs, may not edit pools); ``creator`` may
create runs but not change them; ``scoped`` has USER rights on three DAGs only.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import requests

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

MAX_ERROR = 64 * 1024


def _post(af: Airflow, path: str, body: object, user: str = "admin", **kw: object) -> requests.Response:
    return af.client(user).post(f"{af.url}{API}{path}", json=body, timeout=120, **kw)


def _locs(response: requests.Response) -> list[str]:
    return [f["loc"] for f in response.json()["error"]["fields"]]


def _plans(af: Airflow) -> int:
    return int(get(af, "/plans")["total"])


PLANS = {
    "trust-priority": {
        "dag_id": "ledger_daily",
        "dates": ["2024-12-02"],
        "priority_weight": 2**31 - 1,
        "weight_rule": "downstream",
    },
    "trust-routing-kept": {
        "dag_id": "ledger_mapped",
        "dates": ["2024-12-03"],
        "pool": "backfill_allowed",
        "queue": "backfill",
        "priority_weight": 7,
    },
    "trust-numbers": {
        "dag_id": "ledger_params",
        "dates": ["2024-12-08"],
        "task_params": {"load": {"big": 1e16, "zero": -0.0, "small": 1.5e-7}},
    },
    "trust-remade": {"dag_id": "ledger_daily", "dates": ["2024-12-09"], "tasks": {"exclude": ["b"]}},
    # dw_sales: extract >> load >> check, and check's outlet schedules dw_sales_report
    "trust-outlets": {"dag_id": "dw_sales", "dates": ["2024-12-11"], "tasks": {"exclude": ["check"]}},
    "trust-index": {"dag_id": "ledger_fail", "dates": ["2024-11-10"]},
}
"""plans of a USER that tests below look at once they have ended: submitted together, they run side
by side"""


@pytest.fixture(scope="module")
def started(airflow: Airflow) -> Airflow:
    _pool(airflow, "backfill_allowed")
    for name, body in PLANS.items():
        submit(airflow, {**body, "name": name}, user="author")
    return airflow


def _lot_run(af: Airflow, name: str, state: str = "success") -> str:
    """The run id of the one lot of plan ``name`` (of ``PLANS``), once the plan has ended in ``state``."""
    assert wait_for(af, name)["state"] == state
    return str(lots(af, name)[0]["run_id"])


def _clear(af: Airflow, dag_id: str, run_id: str, **what: object) -> None:
    """Clear task instances of a run as a USER does from the UI, and wait for the run to end again."""
    af.api(
        "POST",
        f"/api/v2/dags/{dag_id}/clearTaskInstances",
        user="author",
        json={"dry_run": False, "dag_run_id": run_id, "only_failed": False, **what},
    )
    assert wait_run(af, dag_id, run_id) == "success"


def _pool(af: Airflow, name: str) -> None:
    if af.client().get(f"{af.url}/api/v2/pools/{name}", timeout=30).status_code == 404:
        af.api("POST", "/api/v2/pools", json={"name": name, "slots": 16})


# -- 3. routing fields need the rights Airflow requires ---------------------------------------------


def test_a_user_routes_lots_only_to_pools_and_queues_the_deployment_lists(airflow: Airflow):
    _pool(airflow, "trust_private_pool")
    _pool(airflow, "backfill_allowed")
    before = _plans(airflow)
    base = {"dag_id": "ledger_daily", "name": "trust-route", "dates": ["2024-12-01"], "paused": True}
    for fields, loc in (({"pool": "trust_private_pool"}, "pool"), ({"queue": "gpu_farm"}, "queue")):
        for query in ("?preview=true", ""):
            refused = _post(airflow, f"/plans{query}", {**base, **fields}, user="author")
            assert refused.status_code == 422, refused.text
            assert _locs(refused) == [loc] and "allowed_" in refused.text, refused.text
    assert _plans(airflow) == before
    # the deployment's lists, and the DAG's own, are anyone's; any pool is the pool editor's
    listed = _post(
        airflow, "/plans?preview=true", {**base, "pool": "backfill_allowed", "queue": "backfill"}, "author"
    )
    assert listed.status_code == 200, listed.text
    own = _post(
        airflow, "/plans?preview=true", {**base, "pool": "default_pool", "queue": "default"}, "author"
    )
    assert own.status_code == 200, own.text
    admin = _post(airflow, "/plans?preview=true", {**base, "pool": "trust_private_pool", "queue": "gpu_farm"})
    assert admin.status_code == 200, admin.text


def test_summed_priorities_are_clamped_as_airflow_clamps_them_and_the_lots_run(started: Airflow):
    airflow = started
    run_id = _lot_run(airflow, "trust-priority")
    found = task_instances(airflow, "ledger_daily", run_id)
    assert {t: ti["priority_weight"] for t, ti in found.items()} == dict.fromkeys("abc", 2**31 - 1)


def test_routing_stays_on_mapped_expansions_and_on_clears(started: Airflow):
    airflow = started
    run_id = _lot_run(airflow, "trust-routing-kept")

    def seen() -> set[tuple[str, int, str, str, int]]:
        path = f"/api/v2/dags/ledger_mapped/dagRuns/{run_id}/taskInstances"
        found = airflow.api("GET", path, params={"limit": 100})["task_instances"]
        return {(t["task_id"], t["map_index"], t["pool"], t["queue"], t["priority_weight"]) for t in found}

    tasks = {("split", -1), ("each", 0), ("each", 1), ("each", 2), ("after", -1)}
    expected = {(task, index, "backfill_allowed", "backfill", 7) for task, index in tasks}
    assert seen() == expected  # the expansion made the map indexes: the plan's routing is on them
    # a USER clears the run's tasks from the UI: Airflow resets them from the tasks, the plan's stays
    _clear(airflow, "ledger_mapped", run_id, reset_dag_runs=True)
    assert seen() == expected


# -- 4. bodies are read off the event loop; errors are bounded --------------------------------------


def test_an_object_wider_than_the_plan_is_one_error_in_a_small_answer(airflow: Airflow):
    before = _plans(airflow)
    wide = {"dag_id": "ledger_daily", "dates": ["2024-01-01"], **{f"{i:x}": 0 for i in range(83_000)}}
    response = _post(airflow, "/plans", wide, user="author")
    assert response.status_code == 422, response.text[:500]
    assert len(response.content) < MAX_ERROR and _locs(response) == [""]
    assert "83002 keys" in response.text
    nested = {"dag_id": "ledger_daily", "dates": ["2024-01-01"], "tasks": {f"k{i}": 0 for i in range(50_000)}}
    response = _post(airflow, "/plans", nested, user="author")
    assert response.status_code == 422 and _locs(response) == ["tasks"], response.text[:500]
    many = {"dag_id": "ledger_daily", "ranges": [{"start": "x", "end": "y", "z": 1}] * 1000}
    response = _post(airflow, "/plans", many, user="author")
    assert response.status_code == 422 and len(response.content) < MAX_ERROR
    fields = response.json()["error"]["fields"]
    assert len(fields) == 51 and "more errors" in fields[-1]["msg"], fields[-1]
    compat = airflow.client("author").post(
        f"{airflow.url}/backfill/compat/dataworks/CreateWorkflowInstances",
        json={"Type": "SupplementData", **{f"K{i}": "x" for i in range(150)}},
        timeout=120,
    )
    assert compat.status_code == 422 and len(compat.content) < MAX_ERROR, compat.text[:500]
    assert _plans(airflow) == before


# -- 5. steering needs what Airflow's steering needs ------------------------------------------------


def test_steering_needs_the_right_to_change_runs_not_only_to_create_them(airflow: Airflow):
    held = submit(
        airflow,
        {"dag_id": "ledger_daily", "name": "trust-creator", "dates": ["2024-12-04"], "paused": True},
        user="creator",
    )
    assert held["state"] == "paused"
    for action in ("resume", "cancel", "retry", "pause"):
        refused = _post(airflow, f"/plans/{held['name']}/{action}", {}, user="creator")
        assert refused.status_code == 403, (action, refused.text)
    assert get(airflow, f"/plans/{held['name']}")["state"] == "paused"
    # Airflow's own API agrees: clearing a run needs the same right
    assert _post(airflow, f"/plans/{held['name']}/cancel", {}, user="author").status_code == 200


# -- 6. no answer reveals what the caller may not read ----------------------------------------------


def test_a_taken_name_a_downstream_dag_or_an_outside_parent_is_never_named(airflow: Airflow):
    submit(
        airflow,
        {
            "dag_id": "ledger_hourly",
            "name": "trust-hidden",
            "lot": "12h",
            "dates": ["2024-12-05"],
            "paused": True,
        },
    )
    for query in ("?preview=true", ""):
        taken = _post(
            airflow,
            f"/plans{query}",
            {"dag_id": "ledger_daily", "name": "trust-hidden", "dates": ["2024-12-05"]},
            "scoped",
        )
        if query:  # a preview creates nothing: the name is not asked about
            assert taken.status_code == 200, taken.text
            continue
        assert taken.status_code == 409, taken.text
        assert "ledger_hourly" not in taken.text and _locs(taken) == ["name"]
    # the same content as the hidden plan, from a caller who may not read it: still nothing of it
    hidden = {
        "dag_id": "ledger_hourly",
        "name": "trust-hidden",
        "lot": "12h",
        "dates": ["2024-12-05"],
        "paused": True,
    }
    same = _post(airflow, "/plans", hidden, "scoped")
    assert same.status_code == 409 and "ledger_hourly" not in same.json()["error"]["message"], same.text
    # parent_check: all reads the runs of the DAGs upstream (dw_sales, which scoped may not read)
    for query in ("?preview=true", ""):
        parents = _post(
            airflow,
            f"/plans{query}",
            {
                "dag_id": "dw_sales_report",
                "lot": "1d",
                "dates": ["2024-12-05"],
                "parent_check": "all",
                "paused": True,
            },
            "scoped",
        )
        assert parents.status_code == 403, parents.text
        assert "dw_sales" not in parents.text.replace("dw_sales_report", ""), parents.text
    scope = _post(
        airflow,
        "/plans?preview=true",
        {"dag_id": "dw_sales_report", "lot": "1d", "dates": ["2024-12-05"], "parent_check": "scope"},
        "scoped",
    )
    assert scope.status_code == 200, scope.text
    airflow.client().post(f"{airflow.url}{API}/plans/trust-hidden/cancel", timeout=60)


def test_a_create_that_loses_the_race_for_a_name_is_checked_like_any_other(airflow: Airflow):
    hidden = {
        "dag_id": "ledger_hourly",
        "name": "trust-race",
        "lot": "12h",
        "dates": ["2024-12-06"],
        "paused": True,
    }
    mine = {"dag_id": "ledger_daily", "name": "trust-race", "dates": ["2024-12-06"], "paused": True}
    answers: list[tuple[str, requests.Response]] = []
    tokens = {user: airflow.token(user) for user in ("admin", "scoped")}

    def post(user: str, body: dict) -> None:
        response = requests.post(
            f"{airflow.url}{API}/plans",
            json=body,
            headers={"Authorization": f"Bearer {tokens[user]}"},
            timeout=120,
        )
        answers.append((user, response))

    threads = [threading.Thread(target=post, args=("admin", hidden)) for _ in range(5)]
    threads += [threading.Thread(target=post, args=("scoped", mine)) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winner = get(airflow, "/plans/trust-race")
    for user, response in answers:
        if user == "scoped":
            assert "ledger_hourly" not in response.text, response.text
            assert response.status_code in ((200, 201) if winner["dag_id"] == "ledger_daily" else (409,)), (
                response.text
            )
    airflow.client().post(f"{airflow.url}{API}/plans/trust-race/cancel", timeout=60)


# -- 7. anonymous is 401 first; only a Bearer header is the caller's own ------------------------------


def test_who_you_are_comes_first_and_only_a_bearer_header_makes_a_write_a_scripts(airflow: Airflow):
    anonymous = requests.Session()
    for headers in (
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {},
    ):
        answer = anonymous.post(f"{airflow.url}{API}/plans", data="x", headers=headers, timeout=60)
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"]["code"] == "unauthenticated"
    huge = anonymous.post(f"{airflow.url}{API}/plans", data=b"x" * 2_000_000, timeout=60)
    assert huge.status_code == 401, huge.text
    held = submit(
        airflow, {"dag_id": "ledger_daily", "name": "trust-basic", "dates": ["2024-12-07"], "paused": True}
    )
    browser = requests.Session()
    browser.cookies.set("_token", airflow.token("admin"))
    for scheme in ("Basic dXNlcjpwYXNz", "Negotiate abc", "Bearer"):
        answer = browser.post(
            f"{airflow.url}{API}/plans/{held['name']}/cancel",
            data={"x": "1"},
            headers={"Authorization": scheme},
            timeout=60,
        )
        assert answer.status_code in (401, 415), (scheme, answer.text)
    assert get(airflow, f"/plans/{held['name']}")["state"] == "paused"
    airflow.client().post(f"{airflow.url}{API}/plans/{held['name']}/cancel", timeout=60)


# -- 8. a signature is bound to one run and survives the database ------------------------------------


def test_numbers_the_database_rewrites_still_verify_and_reach_the_task(started: Airflow):
    airflow = started
    numbers = PLANS["trust-numbers"]["task_params"]["load"]  # type: ignore[index]
    _lot_run(airflow, "trust-numbers")
    (entry,) = [e for e in ledger(airflow, "trust-numbers") if e["task_id"] == "load"]
    assert {k: entry["params"][k] for k in numbers} == numbers  # -0.0 == 0.0


def test_a_lot_runs_conf_copied_into_a_run_remade_under_its_id_skips_nothing(started: Airflow):
    airflow = started
    run_id = _lot_run(airflow, "trust-remade")
    conf = airflow.api("GET", f"/api/v2/dags/ledger_daily/dagRuns/{run_id}")["conf"]
    airflow.api("DELETE", f"/api/v2/dags/ledger_daily/dagRuns/{run_id}", user="author")
    remade = airflow.api(
        "POST",
        "/api/v2/dags/ledger_daily/dagRuns",
        user="author",
        json={"dag_run_id": run_id, "logical_date": "2024-12-19T00:00:00Z", "conf": conf},
    )
    assert wait_run(airflow, "ledger_daily", remade["dag_run_id"]) == "failed"
    states = {t: ti["state"] for t, ti in task_instances(airflow, "ledger_daily", run_id).items()}
    assert states["b"] != "success" and states["a"] == "failed", states


def test_yaml_dates_in_conf_and_task_params_are_the_text_a_conf_holds(airflow: Airflow, tmp_path: Path):
    plan_file = tmp_path / "dates.yaml"
    plan_file.write_text(
        "dag_id: ledger_params\nname: trust-yaml-dates\ndates: [2024-12-10]\n"
        "conf: {day: 2024-01-01}\ntask_params: {load: {since: 2024-01-02T03:04:05}}\n"
    )
    done = airflow.airflow("backfill-plans", "create", str(plan_file), "--output", "json", check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert wait_for(airflow, "trust-yaml-dates")["state"] == "success"
    (entry,) = [e for e in ledger(airflow, "trust-yaml-dates") if e["task_id"] == "load"]
    assert entry["params"]["since"] == "2024-01-02T03:04:05"
    run_id = lots(airflow, "trust-yaml-dates")[0]["run_id"]
    assert airflow.api("GET", f"/api/v2/dags/ledger_params/dagRuns/{run_id}")["conf"]["day"] == "2024-01-01"


# -- 9. dry-run tasks publish nothing -----------------------------------------------------------------


def test_a_dry_run_task_cleared_from_the_ui_publishes_no_asset_event(started: Airflow):
    airflow = started
    run_id = _lot_run(airflow, "trust-outlets")
    _clear(airflow, "dw_sales", run_id, task_ids=["check"])
    assert task_instances(airflow, "dw_sales", run_id)["check"]["try_number"] >= 1  # ran, as a no-op
    events = airflow.api(
        "GET", "/api/v2/assets/events", params={"source_dag_id": "dw_sales", "source_run_id": run_id}
    )
    assert events["total_entries"] == 0, events
    assert "check" not in [e["task_id"] for e in ledger(airflow, "trust-outlets")]


# -- 10. a plan acts only on its own runs -------------------------------------------------------------


def test_a_plan_stops_following_a_run_that_is_no_longer_its_own_and_never_cancels_it(airflow: Airflow):
    # a lot of next century's data: its run waits queued for its data time
    plan = submit(
        airflow, {"dag_id": "ledger_long", "name": "trust-own-runs", "lot": "1d", "dates": ["2099-06-01"]}
    )
    deadline = time.monotonic() + 60
    lot = get(airflow, f"/plans/{plan['name']}/lots/0")
    while lot["run_id"] is None and time.monotonic() < deadline:
        time.sleep(0.5)
        lot = get(airflow, f"/plans/{plan['name']}/lots/0")
    assert lot["run_id"], lot
    airflow.api("DELETE", f"/api/v2/dags/ledger_long/dagRuns/{lot['run_id']}", user="author")
    remade = airflow.api(  # a USER's own run under the lot's run id: it runs (its sensor waits for 2099)
        "POST",
        "/api/v2/dags/ledger_long/dagRuns",
        user="author",
        json={"dag_run_id": lot["run_id"], "logical_date": "2099-01-01T00:00:00Z", "conf": {}},
    )
    lot = wait_lot(airflow, plan["name"], 0, "failed", timeout=60)
    assert lot["state"] == "failed" and "run" in (lot["reason"] or ""), lot
    assert wait_for(airflow, plan["name"])["state"] == "failed"
    airflow.client().post(f"{airflow.url}{API}/plans/{plan['name']}/cancel", timeout=60)
    time.sleep(3)  # a cancel (or a pass) that still followed the run would have failed it by now
    state = airflow.api("GET", f"/api/v2/dags/ledger_long/dagRuns/{remade['dag_run_id']}")["state"]
    assert state in ("queued", "running"), state
    airflow.api("PATCH", f"/api/v2/dags/ledger_long/dagRuns/{remade['dag_run_id']}", json={"state": "failed"})


# -- 11, 12. bounded: indexes, quotas ----------------------------------------------------------------


def test_a_retry_of_a_lot_the_plan_does_not_have_is_a_422(started: Airflow):
    airflow = started
    _lot_run(airflow, "trust-index", state="failed")
    for index in ("9223372036854775808", "1", "-1", "99999999999999999999999"):
        answer = _post(airflow, f"/plans/trust-index/retry?index={index}", {})
        assert answer.status_code == 422, (index, answer.text)
        assert _locs(answer)[0].startswith("index"), answer.text
    assert get(airflow, "/plans/trust-index")["state"] == "failed"


def test_an_operators_quotas_on_plans_and_lots_are_refused_with_their_names(airflow: Airflow, tmp_path: Path):
    def create(body: str, **settings: str):
        path = tmp_path / "quota.yaml"
        path.write_text(body)
        env = {f"AIRFLOW__BACKFILL__{k.upper()}": v for k, v in settings.items()}
        return airflow.airflow("backfill-plans", "create", str(path), check=False, env=env)

    one = "dag_id: ledger_daily\nname: trust-quota-1\ndates: [2024-12-13]\npaused: true\n"
    assert create(one).returncode == 0
    two = "dag_id: ledger_daily\nname: trust-quota-2\ndates: [2024-12-14]\npaused: true\n"
    refused = create(two, max_active_plans_per_user="1")
    assert refused.returncode == 1 and "max_active_plans_per_user = 1" in refused.stderr, refused.stderr[
        -2000:
    ]
    refused = create(two, max_active_lots="1")
    assert refused.returncode == 1 and "max_active_lots = 1" in refused.stderr, refused.stderr[-2000:]
    big = "dag_id: ledger_daily\nname: trust-quota-3\nranges: [{start: 2024-12-01, end: 2024-12-05}]\n"
    refused = create(big, max_lots_per_plan="3")
    assert refused.returncode == 1 and "max_lots_per_plan = 3" in refused.stderr, refused.stderr[-2000:]
    assert get(airflow, "/plans", q="trust-quota")["total"] == 1
    airflow.client().post(f"{airflow.url}{API}/plans/trust-quota-1/cancel", timeout=60)
