"""The engine on a real Airflow: what ran (the ledger) and what Airflow recorded (runs, task instances)."""

from __future__ import annotations

import itertools
import time

import pytest

from airflow_backfill_provider.states import DRIVEN_PLANS
from tests.integration.harness import Airflow
from tests.integration.plans import API, get, ledger, lots, submit, task_instances, wait_for, wait_lot


def run_spans(entries: list[dict]) -> dict[str, tuple[float, float]]:
    """Per run: from the first task's start to the last task's end, as the tasks measured them."""
    spans: dict[str, tuple[float, float]] = {}
    for e in entries:
        lo, hi = spans.get(e["run_id"], (e["began"], e["at"]))
        spans[e["run_id"]] = (min(lo, e["began"]), max(hi, e["at"]))
    return spans


def max_overlap(spans: list[tuple[float, float]]) -> int:
    events = sorted([(lo, 1) for lo, _ in spans] + [(hi, -1) for _, hi in spans])
    current = best = 0
    for _, delta in events:
        current += delta
        best = max(best, current)
    return best


def test_lots_start_in_plan_order_and_never_exceed_parallelism(airflow: Airflow):
    plan = submit(
        airflow,
        {
            "dag_id": "ledger_order",
            "name": "order-asc",
            "ranges": [{"start": "2024-01-01", "end": "2024-01-06"}],
            "parallelism": 2,
        },
    )
    assert plan["total_lots"] == 6
    assert wait_for(airflow, "order-asc")["state"] == "success"
    entries = ledger(airflow, "order-asc")
    assert sorted(e["ds"] for e in entries) == [f"2024-01-0{d}" for d in range(1, 7)]
    starts = sorted(entries, key=lambda e: e["began"])
    # started in plan order, two at a time: each pair starts together, so compare pair by pair
    assert sorted(e["ds"] for e in starts[:2]) == ["2024-01-01", "2024-01-02"]
    assert sorted(e["ds"] for e in starts[2:4]) == ["2024-01-03", "2024-01-04"]
    assert sorted(e["ds"] for e in starts[4:]) == ["2024-01-05", "2024-01-06"]
    assert max_overlap(list(run_spans(entries).values())) == 2


def test_desc_order_starts_newest_first_one_at_a_time(airflow: Airflow):
    submit(
        airflow,
        {
            "dag_id": "ledger_order",
            "name": "order-desc",
            "order": "desc",
            "ranges": [{"start": "2024-02-01", "end": "2024-02-03"}],
        },
    )
    assert wait_for(airflow, "order-desc")["state"] == "success"
    entries = sorted(ledger(airflow, "order-desc"), key=lambda e: e["began"])
    assert [e["ds"] for e in entries] == ["2024-02-03", "2024-02-02", "2024-02-01"]
    assert max_overlap(list(run_spans(entries).values())) == 1


def test_dry_run_task_never_runs_ends_success_with_a_note_and_keeps_the_order(airflow: Airflow):
    submit(
        airflow,
        {
            "dag_id": "ledger_daily",
            "name": "dry-middle",
            "tasks": {"exclude": ["b"]},
            "ranges": [{"start": "2024-03-01", "end": "2024-03-02"}],
            "parallelism": 2,
        },
    )
    assert wait_for(airflow, "dry-middle")["state"] == "success"
    entries = ledger(airflow, "dry-middle")
    assert sorted((e["ds"], e["task_id"]) for e in entries) == [
        ("2024-03-01", "a"),
        ("2024-03-01", "c"),
        ("2024-03-02", "a"),
        ("2024-03-02", "c"),
    ]
    for run_id, in_run in itertools.groupby(
        sorted(entries, key=lambda e: e["run_id"]), key=lambda e: e["run_id"]
    ):
        by_task = {e["task_id"]: e for e in in_run}
        assert by_task["c"]["began"] >= by_task["a"]["at"], "c started before a finished"
        tis = task_instances(airflow, "ledger_daily", run_id)
        assert tis["b"]["state"] == "success"
        assert tis["b"]["try_number"] == 0
        assert "dry-middle" in (tis["b"]["note"] or "")
        assert tis["b"]["hostname"] in (None, "")


def test_a_failed_upstream_leaves_dry_run_and_downstream_upstream_failed(airflow: Airflow):
    submit(
        airflow,
        {
            "dag_id": "ledger_fail",
            "name": "dry-after-failure",
            "tasks": {"exclude": ["b"]},
            "dates": ["2024-02-03"],
        },
    )
    assert wait_for(airflow, "dry-after-failure")["state"] == "failed"
    (lot,) = lots(airflow, "dry-after-failure")
    tis = task_instances(airflow, "ledger_fail", lot["run_id"])
    assert (tis["a"]["state"], tis["b"]["state"], tis["c"]["state"]) == (
        "failed",
        "upstream_failed",
        "upstream_failed",
    )
    assert ledger(airflow, "dry-after-failure") == []


def test_excluded_first_task_is_success_up_front(airflow: Airflow):
    submit(
        airflow,
        {"dag_id": "ledger_daily", "name": "dry-root", "tasks": {"roots": ["b"]}, "dates": ["2024-03-05"]},
    )
    assert wait_for(airflow, "dry-root")["state"] == "success"
    assert sorted(e["task_id"] for e in ledger(airflow, "dry-root")) == ["b", "c"]


def test_self_dependency_blocks_every_lot_after_a_failure(airflow: Airflow):
    submit(
        airflow,
        {
            "dag_id": "ledger_selfdep",
            "name": "selfdep",
            "self_dependency": "on",
            "parallelism": 4,
            "ranges": [{"start": "2024-02-01", "end": "2024-02-05"}],
        },
    )
    plan = wait_for(airflow, "selfdep")
    assert plan["state"] == "failed"
    states = [lot["state"] for lot in lots(airflow, "selfdep")]
    assert states == ["success", "success", "failed", "blocked", "blocked"]
    assert sorted(e["ds"] for e in ledger(airflow, "selfdep")) == ["2024-02-01", "2024-02-02"]
    blocked = get(airflow, "/plans/selfdep/lots/3")
    assert "did not succeed" in blocked["reason"]
    assert blocked["run_id"] is None
    spans = run_spans(ledger(airflow, "selfdep"))
    assert max_overlap(list(spans.values())) == 1


def test_seven_day_lots_and_month_lots_over_a_daily_history(airflow: Airflow):
    # a daily run already holds 2024-05-01: the month lot still runs, with its own run
    existing = airflow.api(
        "POST",
        "/api/v2/dags/ledger_daily/dagRuns",
        json={"logical_date": "2024-05-01T00:00:00Z", "dag_run_id": "manual_may_first"},
    )
    submit(
        airflow,
        {
            "dag_id": "ledger_daily",
            "name": "weeks",
            "lot": "7d",
            "ranges": [{"start": "2024-04-01", "end": "2024-04-10"}],
            "parallelism": 2,
        },
    )
    submit(
        airflow,
        {
            "dag_id": "ledger_daily",
            "name": "months",
            "lot": "month",
            "ranges": [{"start": "2024-05-01", "end": "2024-06-30"}],
            "parallelism": 2,
        },
    )
    assert wait_for(airflow, "weeks")["state"] == "success"
    assert wait_for(airflow, "months")["state"] == "success"
    weeks = {(e["start"], e["end"]) for e in ledger(airflow, "weeks")}
    assert weeks == {
        ("2024-04-01T00:00:00+00:00", "2024-04-08T00:00:00+00:00"),
        ("2024-04-08T00:00:00+00:00", "2024-04-11T00:00:00+00:00"),
    }
    months = {(e["start"], e["end"], e["ds"]) for e in ledger(airflow, "months")}
    assert months == {
        ("2024-05-01T00:00:00+00:00", "2024-06-01T00:00:00+00:00", "2024-05-01"),
        ("2024-06-01T00:00:00+00:00", "2024-07-01T00:00:00+00:00", "2024-06-01"),
    }
    may = lots(airflow, "months")[0]
    assert may["logical_date"] != "2024-05-01T00:00:00Z"  # moved by microseconds: Airflow keeps one per date
    assert may["logical_date"].startswith("2024-05-01T00:00:00.")
    assert existing["dag_run_id"] == "manual_may_first"


def test_hourly_window_keeps_only_its_hours(airflow: Airflow):
    submit(
        airflow,
        {
            "dag_id": "ledger_hourly",
            "name": "window",
            "ranges": [
                {"start": "2024-01-01", "end": "2024-01-01", "window": {"start": "01:00", "end": "03:00"}}
            ],
            "parallelism": 3,
        },
    )
    assert wait_for(airflow, "window")["state"] == "success"
    assert sorted(e["start"] for e in ledger(airflow, "window")) == [
        "2024-01-01T01:00:00+00:00",
        "2024-01-01T02:00:00+00:00",
        "2024-01-01T03:00:00+00:00",
    ]


def test_task_params_reach_their_task_and_its_rendered_sql_only(airflow: Airflow):
    submit(
        airflow,
        {
            "dag_id": "ledger_params",
            "name": "params",
            "dates": ["2024-01-02"],
            "task_params": {"load": {"table": "sales_v2"}},
        },
    )
    assert wait_for(airflow, "params")["state"] == "success"
    by_task = {e["task_id"]: e for e in ledger(airflow, "params")}
    assert by_task["load"]["sql"] == "INSERT INTO sales_v2 SELECT * FROM src WHERE ds = '2024-01-02'"
    assert by_task["load"]["params"]["table"] == "sales_v2"
    assert by_task["audit"]["sql"] == "SELECT count(*) FROM sales WHERE ds = '2024-01-02'"
    assert "__backfill_plan__" not in by_task["audit"]["params"]
    detail = get(airflow, "/plans/params/lots/0")
    rendered = {ti["task_id"]: ti["rendered_fields"] for ti in detail["task_instances"]}
    assert rendered["load"]["sql"].startswith("INSERT INTO sales_v2")


def test_two_overlapping_plans_run_each_interval_once(airflow: Airflow):
    submit(
        airflow,
        {
            "dag_id": "ledger_overlap",
            "name": "overlap-a",
            "ranges": [{"start": "2024-01-01", "end": "2024-01-04"}],
            "parallelism": 2,
        },
    )
    submit(
        airflow,
        {
            "dag_id": "ledger_overlap",
            "name": "overlap-b",
            "ranges": [{"start": "2024-01-03", "end": "2024-01-06"}],
            "parallelism": 2,
        },
    )
    assert wait_for(airflow, "overlap-a")["state"] == "success"
    assert wait_for(airflow, "overlap-b")["state"] == "success"
    ran = [
        e["ds"]
        for e in airflow.ledger_entries()
        if e["dag_id"] == "ledger_overlap" and e["ds"] < "2024-01-07"
    ]
    assert sorted(ran) == [f"2024-01-0{d}" for d in range(1, 7)]
    b_states = {lot["label"]: lot["state"] for lot in lots(airflow, "overlap-b")}
    assert b_states["2024-01-05"] == b_states["2024-01-06"] == "success"
    assert {b_states["2024-01-03"], b_states["2024-01-04"]} <= {"skipped", "success"}


def test_reprocess_failed_reruns_failed_runs_and_skips_good_ones(airflow: Airflow):
    first = submit(
        airflow,
        {
            "dag_id": "ledger_reprocess",
            "name": "first-pass",
            "ranges": [{"start": "2024-02-02", "end": "2024-02-04"}],
            "parallelism": 3,
        },
    )
    assert wait_for(airflow, "first-pass")["state"] == "failed"
    assert first["total_lots"] == 3
    skip = submit(
        airflow,
        {
            "dag_id": "ledger_reprocess",
            "name": "second-none",
            "ranges": [{"start": "2024-02-02", "end": "2024-02-04"}],
        },
    )
    assert wait_for(airflow, skip["name"])["state"] == "success"
    assert [lot["state"] for lot in lots(airflow, "second-none")] == ["skipped"] * 3
    redo = submit(
        airflow,
        {
            "dag_id": "ledger_reprocess",
            "name": "second-failed",
            "reprocess": "failed",
            "ranges": [{"start": "2024-02-02", "end": "2024-02-04"}],
        },
    )
    assert wait_for(airflow, redo["name"])["state"] == "failed"  # 02-03 fails again, by design of the DAG
    states = [lot["state"] for lot in lots(airflow, "second-failed")]
    assert states == ["skipped", "failed", "skipped"]
    # the failed interval was re-run in its existing run: same run id as the first pass
    assert lots(airflow, "second-failed")[1]["run_id"] == lots(airflow, "first-pass")[1]["run_id"]


def test_paused_target_dag_is_warned_about_and_its_lots_say_why(airflow: Airflow):
    airflow.api("PATCH", "/api/v2/dags/ledger_paused", json={"is_paused": True})
    try:
        preview = (
            airflow.client()
            .post(
                f"{airflow.url}{API}/plans?preview=true",
                json={"dag_id": "ledger_paused", "dates": ["2024-01-01"]},
            )
            .json()
        )
        assert any("paused" in w for w in preview["warnings"])
        submit(airflow, {"dag_id": "ledger_paused", "name": "paused-dag", "dates": ["2024-01-01"]})
        lot = wait_lot(airflow, "paused-dag", 0, "waiting")
        assert lot["state"] == "waiting"
        assert "paused" in lot["reason"]
    finally:
        airflow.api("PATCH", "/api/v2/dags/ledger_paused", json={"is_paused": False})
    assert wait_for(airflow, "paused-dag")["state"] == "success"


def test_one_driver_drives_every_plan_without_a_worker_or_a_dag_run_and_ends_when_none_is_left(
    airflow: Airflow,
):
    for name, day in (("drive-a", "2024-03-01"), ("drive-b", "2024-03-02")):
        submit(
            airflow, {"dag_id": "ledger_hourly", "name": name, "lot": "6h", "dates": [day], "parallelism": 4}
        )
    assert wait_for(airflow, "drive-a")["state"] == "success"
    assert wait_for(airflow, "drive-b")["state"] == "success"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        callbacks = [
            c
            for c in airflow.sql("SELECT id, state, trigger_id, data FROM callback WHERE type = 'triggerer'")
            if "PlanDriverTrigger" in str(c.data)
        ]
        (driver,) = airflow.sql("SELECT run_id, token_hash FROM backfill_driver")
        if callbacks and all(c.state == "success" for c in callbacks) and driver.run_id is None:
            break
        time.sleep(1)
    else:
        active = [
            (p["name"], p["state"])
            for state in DRIVEN_PLANS
            for p in get(airflow, "/plans", state=state.value, limit=100)["plans"]
        ]
        pytest.fail(f"driver callbacks {callbacks} did not all end; plans still driven: {active}")
    for callback in callbacks:
        assert callback.trigger_id is None, "an ended driver still holds its trigger"
        assert "token" not in str(callback.data), "the driver's token is in the callback's data"
    runs = airflow.api("GET", "/api/v2/dags/backfill_plan_controller/dagRuns", params={"limit": 100})
    assert not [r for r in runs["dag_runs"] if not r["dag_run_id"].startswith("notify__")], (
        "the driver made a run of the controller DAG"
    )


def test_kill_9_of_scheduler_triggerer_and_api_server_loses_and_duplicates_nothing(airflow: Airflow):
    submit(
        airflow,
        {
            "dag_id": "ledger_kill",
            "name": "killed",
            "ranges": [{"start": "2024-01-01", "end": "2024-01-06"}],
            "parallelism": 2,
        },
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and get(airflow, "/plans/killed")["counts"]["success"] < 2:
        time.sleep(0.5)
    for component in ("scheduler", "triggerer", "api-server"):
        airflow.kill(component)
    time.sleep(2)
    for component in ("api-server", "scheduler", "triggerer"):
        airflow.start(component)
    airflow.wait_until_up()
    plan = wait_for(airflow, "killed", timeout=400)
    assert plan["state"] == "success", plan["counts"]
    # the engine lost nothing and made nothing twice: one run per lot, each lot's interval exactly once
    plan_lots = lots(airflow, "killed")
    assert [lot["state"] for lot in plan_lots] == ["success"] * 6
    assert len({lot["run_id"] for lot in plan_lots}) == 6
    runs = airflow.api("GET", "/api/v2/dags/ledger_kill/dagRuns", params={"limit": 100})["dag_runs"]
    ours = [r for r in runs if r["dag_run_id"].startswith("backfill_plan__killed__")]
    assert sorted(r["data_interval_start"] for r in ours) == [f"2024-01-0{d}T00:00:00Z" for d in range(1, 7)]
    # every task's effect is there; a try killed after its work but before it could report success is
    # run again by Airflow (its next try): tasks are at-least-once under a crash, but no try ran twice
    entries = ledger(airflow, "killed")
    assert {(e["ds"], e["task_id"]) for e in entries} == {
        (f"2024-01-0{d}", t) for d in range(1, 7) for t in ("work", "more")
    }
    tries = [(e["ds"], e["task_id"], e["try"]) for e in entries]
    assert len(tries) == len(set(tries)), "a try of a task ran twice"


def test_bad_plans_create_nothing(airflow: Airflow):
    before = get(airflow, "/plans")["total"]
    runs_before = airflow.api("GET", "/api/v2/dags/ledger_daily/dagRuns", params={"limit": 1})[
        "total_entries"
    ]
    cases = [
        ({"dag_id": "ledger_daily", "dates": ["2024-01-01"], "paralelism": 2}, 422, ["paralelism"]),
        (
            {"dag_id": "ledger_daily", "ranges": [{"start": "2024-02-01", "end": "2024-01-01"}], "lot": "2w"},
            422,
            ["lot", "ranges.0.end"],
        ),
        ({"dag_id": "no_such_dag", "dates": ["2024-01-01"]}, 404, ["dag_id"]),
        (
            {"dag_id": "ledger_daily", "dates": ["2024-01-01"], "tasks": {"exclude": ["zz*"]}},
            404,
            ["tasks.exclude.0"],
        ),
        ({"dag_id": "ledger_daily", "dates": ["2024-01-01"], "pool": "no_such_pool"}, 422, ["pool"]),
    ]
    for body, status, locs in cases:
        response = airflow.client().post(f"{airflow.url}{API}/plans", json=body)
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert [f["loc"] for f in error["fields"]] == locs
        assert error["request_id"] == response.headers["X-Request-ID"]
    not_json = airflow.client().post(
        f"{airflow.url}{API}/plans", data=b"{oops", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 422
    assert "not valid JSON" in not_json.json()["error"]["message"]
    assert get(airflow, "/plans")["total"] == before
    assert (
        airflow.api("GET", "/api/v2/dags/ledger_daily/dagRuns", params={"limit": 1})["total_entries"]
        == runs_before
    )


def test_auth_anonymous_is_401_viewer_reads_but_cannot_create(airflow: Airflow):
    body = {"dag_id": "ledger_daily", "name": "auth-check", "dates": ["2024-06-01"], "paused": True}
    anonymous = airflow.client(None).post(f"{airflow.url}{API}/plans", json=body)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthenticated"
    viewer = airflow.client("viewer").post(f"{airflow.url}{API}/plans", json=body)
    assert viewer.status_code == 403
    submit(airflow, body)
    assert get(airflow, "/plans/auth-check", user="viewer")["state"] == "paused"
    assert airflow.client("viewer").post(f"{airflow.url}{API}/plans/auth-check/cancel").status_code == 403
    assert airflow.client(None).get(f"{airflow.url}{API}/plans").status_code == 401
    cancelled = airflow.client().post(f"{airflow.url}{API}/plans/auth-check/cancel")
    assert cancelled.json()["state"] == "cancelled"


def test_resubmitting_the_same_plan_returns_it_and_other_content_conflicts(airflow: Airflow):
    body = {"dag_id": "ledger_daily", "name": "same-twice", "dates": ["2024-07-01"], "paused": True}
    first = airflow.client().post(f"{airflow.url}{API}/plans", json=body)
    again = airflow.client().post(f"{airflow.url}{API}/plans", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["plan"]["id"] == again.json()["plan"]["id"]
    other = airflow.client().post(f"{airflow.url}{API}/plans", json={**body, "parallelism": 3})
    assert other.status_code == 409
    airflow.client().post(f"{airflow.url}{API}/plans/same-twice/cancel")


def test_ten_thousand_lots_create_runs_for_the_window_only(airflow: Airflow):
    started = time.monotonic()
    plan = submit(
        airflow,
        {
            "dag_id": "ledger_hourly",
            "name": "ten-thousand",
            "lot": "1h",
            "ranges": [{"start": "2020-01-01", "end": "2021-02-20T16:00:00"}],
        },
    )
    created = time.monotonic() - started
    assert plan["total_lots"] == 10_000
    runs = airflow.api(
        "GET",
        "/api/v2/dags/ledger_hourly/dagRuns",
        params={"limit": 1, "run_id_pattern": "backfill_plan__ten-thousand__%"},
    )
    assert runs["total_entries"] == 1 + 16, (
        "runs are created a window ahead (parallelism + 16), not for every lot"
    )
    page = get(airflow, "/plans/ten-thousand/lots", limit=5, offset=9_995)
    assert page["total"] == 10_000 and [lot["index"] for lot in page["lots"]] == list(range(9_995, 10_000))
    assert page["lots"][-1]["label"] == "2021-02-20 15:00 → 16:00"
    cancelled = airflow.client().post(f"{airflow.url}{API}/plans/ten-thousand/cancel").json()
    assert cancelled["state"] == "cancelled"
    assert cancelled["counts"]["cancelled"] == 10_000 - cancelled["counts"]["success"]
    assert created < 60
