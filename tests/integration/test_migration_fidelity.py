"""Migration fidelity (issue 19): a cloud scheduler's request does in Airflow what it did in its own
system, through its compat endpoint and through ``airflow backfill-plans import``, judged by what ran."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.integration.harness import Airflow
from tests.integration.plans import get, ledger, lots, wait_for

COMPAT = "/backfill/compat"
ALOUDATA = f"{COMPAT}/aloudata/anymetrics/api/v1"


def _wedata(airflow: Airflow, body: dict[str, Any]) -> dict[str, Any]:
    response = airflow.client().post(
        f"{airflow.url}{COMPAT}/wedata/", headers={"X-TC-Action": "CreateDataBackfillPlan"}, json=body
    )
    assert response.status_code == 200, response.text
    answer = response.json()["Response"]
    assert "Error" not in answer, answer
    return dict(get(airflow, f"/plans/{answer['Data']['DataBackfillPlanId']}"))


def _import(airflow: Airflow, tmp_path: Path, system: str, request: dict[str, Any]) -> str:
    """``airflow backfill-plans import`` of ``request``, waited for; the plan's name."""
    path = tmp_path / f"{system}.json"
    path.write_text(json.dumps(request))
    done = airflow.airflow(
        "backfill-plans", "import", "--from", system, str(path), "--output", "json", check=False
    )
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)[0]["name"])


def _days(airflow: Airflow, names: list[str], task: str) -> list[str]:
    """The data dates ``task`` ran for in these plans, once per run: in their lots' runs (a later plan
    re-runs the same runs, as Airflow's backfills clear and re-run a run)."""
    runs = {lot["run_id"] for name in names for lot in lots(airflow, name)}
    return sorted(e["ds"] for e in airflow.ledger_entries() if e["run_id"] in runs and e["task_id"] == task)


def test_every_call_is_a_new_backfill_that_regenerates_its_dates(airflow: Airflow, tmp_path: Path):
    request = {
        "ProjectId": "1460947878944567296",
        "TaskIds": ["20250827115253729"],
        "DataBackfillRangeList": [{"StartDate": "2025-10-06", "EndDate": "2025-10-07"}],
        "DataBackfillPlanName": "补数据_xm_test",  # a label, reused across calls, in Chinese
    }
    first, second = _wedata(airflow, request), _wedata(airflow, request)
    assert first["id"] != second["id"] and first["title"] == second["title"] == "补数据_xm_test"
    third = _import(airflow, tmp_path, "wedata", request)
    names = [first["name"], second["name"], third]
    for name in names:
        plan = wait_for(airflow, name)
        assert plan["state"] == "success" and plan["counts"]["skipped"] == 0, plan["counts"]
    assert _days(airflow, names, "orders") == ["2025-10-06"] * 3 + ["2025-10-07"] * 3  # each call ran them
    # Aloudata: a new dagName per call, and each runs
    body = {"planId": "5468b0c0462e40e08e44108d8164c7c3", "startTime": "2025-02-03", "endTime": "2025-02-03"}
    names = []
    for _ in range(2):
        created = airflow.client().post(f"{airflow.url}{ALOUDATA}/accelerate/task/create", json=body)
        assert created.status_code == 200 and created.json()["code"] == "200", created.text
        names.append(get(airflow, f"/plans/{created.json()['data']}")["name"])
    assert names[0] != names[1]
    for name in names:
        assert wait_for(airflow, name)["state"] == "success"
        listed = (
            airflow.client()
            .get(f"{airflow.url}{ALOUDATA}/accelerate/task/instance/list", params={"dagName": name})
            .json()
        )
        assert [i["status"] for i in listed["instances"]] == ["SUCCESS"]
    assert _days(airflow, names, "refresh") == ["2025-02-03"] * 2


def test_a_wedata_date_without_timezone_is_the_dags_calendar_day(airflow: Airflow, tmp_path: Path):
    request = {
        "ProjectId": "1",
        "TaskIds": ["wedata_tokyo"],
        "DataBackfillRangeList": [{"StartDate": "2024-10-15", "EndDate": "2024-10-15"}],
    }
    rest = _wedata(airflow, request)["name"]
    cli = _import(airflow, tmp_path, "wedata", request)
    for name in (rest, cli):
        assert wait_for(airflow, name)["state"] == "success"
        [lot] = lots(airflow, name)
        assert lot["data_interval_start"].startswith("2024-10-14T15:00:00"), lot  # Tokyo's 10-15
    # an explicit TimeZone keeps its meaning: UTC+8's 2024-10-15 holds Tokyo's 10-16 run
    explicit = _wedata(airflow, {**request, "TimeZone": "UTC+8"})
    assert [lot["data_interval_start"][:19] for lot in lots(airflow, explicit["name"])] == [
        "2024-10-15T15:00:00"
    ]
    airflow.client().post(f"{airflow.url}/backfill/api/v1/plans/{explicit['name']}/cancel", json={})


def test_hourly_fields_on_a_daily_dag_run_whole_days_with_a_warning(airflow: Airflow, tmp_path: Path):
    query = (
        "Action=RunCycleDagNodes&ProjectEnv=PROD&StartBizDate=2025-10-20 00:00:00&EndBizDate=2025-10-21 00:00:00"
        "&Name=daily&RootNodeId=wedata_orders.orders&IncludeNodeIds=wedata_orders.summary"
        "&BizBeginTime=08:00:00&BizEndTime=10:00:00&Parallelism=true"
    )
    response = airflow.client().post(f"{airflow.url}{COMPAT}/dataworks-legacy/?{query}")
    assert response.status_code == 200, response.text
    warnings = response.json()["Warnings"]
    assert any("whole days run" in w for w in warnings), warnings
    name = get(airflow, f"/plans/{response.json()['Data']}")["name"]
    assert wait_for(airflow, name)["state"] == "success"
    # business dates 10-20 and 10-21: the runs scheduled the day after each
    assert _days(airflow, [name], "summary") == ["2025-10-21", "2025-10-22"]
    # the same through import (a file of the request's fields)
    fields = dict(part.split("=", 1) for part in query.split("&"))
    fields["StartBizDate"], fields["EndBizDate"] = "2025-10-22 00:00:00", "2025-10-22 00:00:00"
    name = _import(airflow, tmp_path, "dataworks-legacy", fields)
    assert wait_for(airflow, name)["state"] == "success"
    assert _days(airflow, [name], "summary") == ["2025-10-23"]


def test_wedata_month_cycle_runs_the_first_day_of_each_month(airflow: Airflow, tmp_path: Path):
    request = {
        "ProjectId": "1",
        "TaskIds": ["wedata_orders"],
        "DataBackfillRangeList": [{"StartDate": "2025-01-15", "EndDate": "2025-03-20"}],
        "RedefineCycleType": "MONTH_CYCLE",
    }
    rest = _wedata(airflow, request)["name"]
    cli = _import(airflow, tmp_path, "wedata", request)
    for name in (rest, cli):
        assert wait_for(airflow, name)["state"] == "success"
        assert {lot["label"] for lot in lots(airflow, name)} == {"2025-02-01", "2025-03-01"}
    assert _days(airflow, [rest, cli], "orders") == ["2025-02-01"] * 2 + ["2025-03-01"] * 2


def test_aloudata_task_form_plan_id_runs_that_task_only(airflow: Airflow, tmp_path: Path):
    body = {"planId": "aloudata_metrics.publish", "startTime": "2025-02-10", "endTime": "2025-02-10"}
    created = airflow.client().post(f"{airflow.url}{ALOUDATA}/accelerate/task/create", json=body)
    assert created.status_code == 200, created.text
    rest = get(airflow, f"/plans/{created.json()['data']}")["name"]
    cli = _import(airflow, tmp_path, "aloudata", {**body, "startTime": "2025-02-11", "endTime": "2025-02-11"})
    for name in (rest, cli):
        assert wait_for(airflow, name)["state"] == "success"
        assert {e["task_id"] for e in ledger(airflow, name)} == {"publish"}  # refresh is dry-run


def test_nothing_is_dropped_and_errors_name_the_requests_own_field(airflow: Airflow):
    bad_time = airflow.client().post(
        f"{airflow.url}{COMPAT}/dataworks-legacy/RunCycleDagNodes",
        data={
            "ProjectEnv": "PROD", "StartBizDate": "2020-05-20", "EndBizDate": "2020-05-20", "Name": "x",
            "RootNodeId": "1234", "IncludeNodeIds": "74324", "BizBeginTime": "25:00:00", "BizEndTime": "01:00:00",
            "Parallelism": "false",
        },
    )  # fmt: skip
    assert bad_time.status_code == 422
    message = bad_time.json()["ErrorMessage"]
    assert "BizBeginTime:" in message and "StartBizDate" not in message, message
    from tests.integration.test_compat import DATAWORKS_EXAMPLE

    request = {**DATAWORKS_EXAMPLE, "Periods": {"BizDates": [{"StartBizDate": "2024-11-20", "EndBizDate": "2024-11-20", "Hour": 1}]}}  # fmt: skip
    request["DefaultRunProperties"] = {
        **DATAWORKS_EXAMPLE["DefaultRunProperties"],
        "RunPolicy": {"Type": "Daily", "Immediately": "yes"},
        "Analysis": {"Enabled": True, "Blocked": True, "Extra": 1},
    }
    nested = airflow.client().post(f"{airflow.url}{COMPAT}/dataworks/CreateWorkflowInstances", json=request)
    assert nested.status_code == 422
    message = nested.json()["ErrorMessage"]
    for field in (
        "Periods.BizDates.0.Hour",
        "DefaultRunProperties.RunPolicy.Immediately",
        "DefaultRunProperties.Analysis.Extra",
    ):
        assert f"{field}:" in message, message


def test_a_request_over_several_dags_is_one_plan_over_them_polled_by_one_id(airflow: Airflow, tmp_path: Path):
    # WeData TaskIds of two workflows: one plan over both DAGs, one id answered
    request = {
        "ProjectId": "1",
        "TaskIds": ["20250827115253729", "aloudata_metrics.refresh"],
        "DataBackfillRangeList": [{"StartDate": "2025-11-03", "EndDate": "2025-11-03"}],
    }
    response = airflow.client().post(
        f"{airflow.url}{COMPAT}/wedata/", headers={"X-TC-Action": "CreateDataBackfillPlan"}, json=request
    )
    assert "Error" not in response.json()["Response"], response.text
    plan = get(airflow, f"/plans/{response.json()['Response']['Data']['DataBackfillPlanId']}")
    assert response.headers["X-Backfill-Plan"] == plan["name"]
    assert wait_for(airflow, plan["name"])["state"] == "success"
    assert {lot["dag_id"] for lot in lots(airflow, plan["name"])} == {"wedata_orders", "aloudata_metrics"}
    assert _days(airflow, [plan["name"]], "orders") == ["2025-11-03"]
    assert _days(airflow, [plan["name"]], "refresh") == ["2025-11-03"]
    assert _days(airflow, [plan["name"]], "publish") == []  # not named: dry-run
    # the same through import
    path = tmp_path / "several.json"
    path.write_text(
        json.dumps(
            {**request, "DataBackfillRangeList": [{"StartDate": "2025-11-04", "EndDate": "2025-11-04"}]}
        )
    )
    done = airflow.airflow(
        "backfill-plans", "import", "--from", "wedata", str(path), "--output", "json", check=False
    )
    assert done.returncode == 0, done.stderr
    (imported,) = [p["name"] for p in json.loads(done.stdout)]
    assert wait_for(airflow, imported)["state"] == "success"
    # DataWorks: roots in two DAGs under WorkflowId 1, polled by its OperationId
    from tests.integration.test_compat import DATAWORKS_EXAMPLE

    dataworks = {
        **DATAWORKS_EXAMPLE,
        "Periods": {"BizDates": [{"StartBizDate": "2025-11-05", "EndBizDate": "2025-11-06"}]},
        "DefaultRunProperties": {
            "RootTaskIds": [1234, "wedata_orders.orders"],
            "Mode": "ManualSelection",
            "Parallelism": 2,
        },
    }
    dataworks.pop("TaskParameters")
    created = airflow.client().post(
        f"{airflow.url}{COMPAT}/dataworks/CreateWorkflowInstances", json=dataworks
    )
    assert created.status_code == 200, created.text
    operation = created.json()["OperationId"]
    result = airflow.client().get(
        f"{airflow.url}{COMPAT}/dataworks/?Action=GetCreateWorkflowInstancesResult&OperationId={operation}"
    )
    assert result.status_code == 200, result.text
    assert len(result.json()["Result"]["WorkflowInstanceIds"]) == 4  # two days of each DAG
    assert wait_for(airflow, created.headers["X-Backfill-Plan"])["state"] == "success"


def test_a_request_over_dependent_workflows_runs_each_dates_downstream_after_its_upstream(
    airflow: Airflow, tmp_path: Path
):
    # dw_sales_report is scheduled by dw_sales' asset; its sensor-free selection is the report task
    request = {
        "ProjectId": "1",
        "TaskIds": ["dw_sales.check", "dw_sales_report.report"],
        "DataBackfillRangeList": [{"StartDate": "2025-11-12", "EndDate": "2025-11-13"}],
        "DataTimeOrder": "REVERSE",
        "RedefineParallelNum": 4,
    }
    plan = _wedata(airflow, request)
    assert plan["parent_check"] == "scope"
    assert wait_for(airflow, plan["name"])["state"] == "success"
    entries = ledger(airflow, plan["name"])
    for ds in ("2025-11-12", "2025-11-13"):
        (check,) = [e for e in entries if e["ds"] == ds and e["task_id"] == "check"]
        (report,) = [e for e in entries if e["ds"] == ds and e["task_id"] == "report"]
        assert report["began"] >= check["at"], (ds, check, report)  # the date's upstream first
    text = json.dumps(
        {**request, "DataBackfillRangeList": [{"StartDate": "2025-11-14", "EndDate": "2025-11-14"}]}
    )
    path = tmp_path / "dependent.json"
    path.write_text(text)
    done = airflow.airflow(
        "backfill-plans", "import", "--from", "wedata", str(path), "--output", "json", check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (imported,) = json.loads(done.stdout)
    assert imported["dags"]["add"] == ["dw_sales_report"] and imported["parent_check"] == "scope"
    assert wait_for(airflow, imported["name"])["state"] == "success"


# -- round 3 (issue 32): each seed's dates, windows, order and scope mean what they meant there ------


def _preview(airflow: Airflow, system: str, path: str, request: dict[str, Any], **kw: Any) -> Any:
    """A compat preview (creates nothing): the system's answer and its Preview."""
    response = airflow.client().post(
        f"{airflow.url}{COMPAT}/{system}/{path}", params={"preview": "true"}, json=request, **kw
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return body["Response"] if system == "wedata" else body


def _import_preview(airflow: Airflow, tmp_path: Path, system: str, text: str) -> list[dict[str, Any]]:
    path = tmp_path / f"{system}-preview.txt"
    path.write_text(text)
    done = airflow.airflow(
        "backfill-plans", "import", "--from", system, str(path), "--preview", "--output", "json", check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return list(json.loads(done.stdout))


def test_dataworks_dates_name_the_instances_scheduled_the_day_after_them(airflow: Airflow, tmp_path: Path):
    # hourly (seed 001): business dates 05-20..05-21 at 00:00-01:00 are the runs scheduled 05-21 and
    # 05-22 at 00:00 and 01:00
    legacy = {
        "Action": "RunCycleDagNodes", "ProjectEnv": "PROD", "Name": "x", "RootNodeId": "1234",
        "IncludeNodeIds": "74324", "StartBizDate": "2020-05-20 00:00:00", "EndBizDate": "2020-05-21 00:00:00",
        "BizBeginTime": "00:00:00", "BizEndTime": "01:00:00", "Parallelism": "false",
    }  # fmt: skip
    preview = _preview(airflow, "dataworks-legacy", "RunCycleDagNodes", legacy)["Preview"]
    hours = ["2020-05-21T00", "2020-05-21T01", "2020-05-22T00", "2020-05-22T01"]
    assert [lot["data_interval_start"][:13] for lot in preview["lots"]] == hours
    assert [lot["system_date"] for lot in preview["lots"]] == ["2020-05-20"] * 2 + ["2020-05-21"] * 2
    imported = _import_preview(airflow, tmp_path, "dataworks-legacy", json.dumps(legacy))
    assert [lot["data_interval_start"][:13] for lot in imported] == hours
    # daily (seed 004) on Airflow 3's trigger timetable: business date D is the run of logical date D+1
    from tests.integration.test_compat import DATAWORKS_EXAMPLE

    request = {**DATAWORKS_EXAMPLE, "Periods": {"BizDates": [{"StartBizDate": "2025-12-01", "EndBizDate": "2025-12-02"}]}}  # fmt: skip
    daily = _preview(airflow, "dataworks", "CreateWorkflowInstances", request)["Preview"]
    assert [(lot["label"], lot["system_date"]) for lot in daily["lots"]] == [
        ("2025-12-02", "2025-12-01"),
        ("2025-12-03", "2025-12-02"),
    ]


def test_wedata_times_of_day_apply_to_hourly_tasks_and_dependency_order_wins(
    airflow: Airflow, tmp_path: Path
):
    windowed = {"StartDate": "2025-09-01", "EndDate": "2025-09-02", "ExecutionStartTime": "08:00", "ExecutionEndTime": "10:00"}  # fmt: skip
    request = {
        "ProjectId": "1",
        "TaskIds": ["wedata_orders"],
        "DataBackfillRangeList": [windowed, {"StartDate": "2025-09-05", "EndDate": "2025-09-05"}],
    }
    headers = {"X-TC-Action": "CreateDataBackfillPlan"}
    preview = _preview(airflow, "wedata", "", request, headers=headers)["Preview"]
    assert [lot["label"] for lot in preview["lots"]] == ["2025-09-01", "2025-09-02", "2025-09-05"]
    assert any("hourly tasks only" in w for w in preview["warnings"]), preview["warnings"]
    only = _preview(airflow, "wedata", "", {**request, "DataBackfillRangeList": [windowed]}, headers=headers)
    assert [lot["label"] for lot in only["Preview"]["lots"]] == ["2025-09-01", "2025-09-02"]
    # REVERSE with self-dependency: oldest first (seed 003: "priority is given to dependency order");
    # the import file says yes the way WeData's SDK writes it, and a half-hour TimeZone
    ordered = {
        **request,
        "DataTimeOrder": "REVERSE",
        "RedefineSelfWorkflowDependency": "yes",
        "TimeZone": "UTC+05:30",
    }
    answer = _preview(airflow, "wedata", "", ordered, headers=headers)["Preview"]
    days = [lot["data_interval_start"][:10] for lot in answer["lots"]]
    assert days == ["2025-09-01", "2025-09-02", "2025-09-05"]
    assert answer["timezone"] == "Asia/Kolkata"
    text = "ProjectId: '1'\nTaskIds: [wedata_orders]\nDataBackfillRangeList:\n  - {StartDate: 2025-09-01, EndDate: 2025-09-02}\nDataTimeOrder: REVERSE\nRedefineSelfWorkflowDependency: yes\n"
    assert [lot["label"] for lot in _import_preview(airflow, tmp_path, "wedata", text)] == [
        "2025-09-01",
        "2025-09-02",
    ]


def test_wedata_without_a_parallel_number_keeps_the_dags_own_and_unmapped_groups_are_refused(
    airflow: Airflow,
):
    request = {
        "ProjectId": "1",
        "TaskIds": ["wedata_orders"],
        "DataBackfillRangeList": [{"StartDate": "2025-09-10", "EndDate": "2025-09-10"}],
    }
    headers = {"X-TC-Action": "CreateDataBackfillPlan"}
    refused = airflow.client().post(
        f"{airflow.url}{COMPAT}/wedata/",
        headers=headers,
        json={**request, "SchedulerResourceGroupId": "rg-unknown"},
    )
    error = refused.json()["Response"]["Error"]
    assert error["Code"] == "InvalidParameter" and "SchedulerResourceGroupId" in error["Message"], error
    plan = _wedata(airflow, {**request, "DataBackfillPlanName": "own-parallelism"})
    assert plan["parallelism"] is None
    ((runs,),) = airflow.sql(
        "SELECT b.max_active_runs FROM backfill b JOIN backfill_plan_dag d ON d.backfill_id = b.id "
        "JOIN backfill_plan p ON p.id = d.plan_id WHERE p.name = :n",
        n=plan["name"],
    )
    assert runs == 16  # the DAG's own max_active_runs (Airflow's default), not one at a time
    assert wait_for(airflow, plan["name"])["state"] == "success"


def test_dms_days_follow_the_flows_schedule_and_a_history_id_needs_the_id_map(airflow: Airflow):
    form = {"DagId": "15002", "BackFillDateBegin": "2025-08-01", "BackFillDateEnd": "2025-08-02"}
    answer = airflow.client().post(f"{airflow.url}{COMPAT}/dms/BackFill", data={**form, "preview": "true"})
    assert answer.status_code == 200, answer.text
    starts = [lot["data_interval_start"][:16] for lot in answer.json()["Preview"]["lots"]]
    assert starts == ["2025-08-01T02:00", "2025-08-02T02:00"]  # its own 02:00 runs, not midnight lots
    history = airflow.client().post(
        f"{airflow.url}{COMPAT}/dms/BackFill", data={**form, "HistoryDagId": "16099"}
    )
    assert history.status_code == 422 and "HistoryDagId" in history.json()["ErrorMessage"], history.text


def test_an_old_dates_lot_shows_the_sql_it_ran_once_airflow_dropped_its_rendered_fields(airflow: Airflow):
    body = {"planId": "aloudata_metrics", "startTime": "2025-03-10", "endTime": "2025-03-11"}
    created = airflow.client().post(f"{airflow.url}{ALOUDATA}/accelerate/task/create", json=body)
    assert created.status_code == 200, created.text
    name = get(airflow, f"/plans/{created.json()['data']}")["name"]
    submit_sql = airflow.client().post(
        f"{airflow.url}/backfill/api/v1/plans",
        json={
            "dag_id": "ledger_params",
            "name": "kept-sql",
            "dates": ["2024-06-10", "2024-06-11"],
            "order": "asc",
        },
    )
    assert submit_sql.status_code == 201, submit_sql.text
    assert wait_for(airflow, "kept-sql")["state"] == "success"
    assert wait_for(airflow, name)["state"] == "success"
    first = get(airflow, "/plans/kept-sql/lots/0")
    # Airflow keeps rendered fields for the DAG's newest run only here (30 in production)
    assert not airflow.sql("SELECT 1 FROM rendered_task_instance_fields WHERE run_id = :r", r=first["run_id"])
    (load,) = [ti for ti in first["task_instances"] if ti["task_id"] == "load"]
    assert load["rendered_fields"]["sql"] == "INSERT INTO sales SELECT * FROM src WHERE ds = '2024-06-10'"
    # Aloudata's instance list: created when its run was, scheduled at the run's scheduled time
    listed = (
        airflow.client()
        .get(f"{airflow.url}{ALOUDATA}/accelerate/task/instance/list", params={"dagName": name})
        .json()["instances"]
    )
    # scheduled when its day's data is complete (the run's run_after: the lot's end)
    assert [i["startPartition"] for i in listed] == ["2025-03-10", "2025-03-11"]
    assert [i["scheduleTime"] for i in listed] == ["2025-03-11T00:00:00", "2025-03-12T00:00:00"]
    assert all(i["createTime"] and i["createTime"] > "2026" for i in listed), listed
    assert {i["mtGuid"] for i in listed} == {"airflow.aloudata_metrics.aloudata_metrics"}


def test_what_a_backfill_sends_downstream_is_the_plans_choice(airflow: Airflow):
    body = {"dag_id": "dw_sales", "dates": ["2025-11-20"]}
    emit = airflow.client().post(f"{airflow.url}/backfill/api/v1/plans?preview=true", json=body).json()
    assert emit["asset_consumers"] == ["dw_sales_report"], emit  # check's outlet schedules the report
    quiet = {**body, "asset_events": "suppress", "name": "quiet-sales"}
    preview = airflow.client().post(f"{airflow.url}/backfill/api/v1/plans?preview=true", json=quiet).json()
    assert preview["asset_consumers"] == []
    created = airflow.client().post(f"{airflow.url}/backfill/api/v1/plans", json=quiet)
    assert created.status_code == 201, created.text
    assert wait_for(airflow, "quiet-sales")["state"] == "success"
    run_id = lots(airflow, "quiet-sales")[0]["run_id"]
    events = airflow.api("GET", "/api/v2/assets/events", params={"source_run_id": run_id})["asset_events"]
    # the task reported none (so no consumer was queued); the service recorded the change, for lineage
    assert [(e["source_task_id"], e["extra"].get("backfill_plan")) for e in events] == [
        ("check", "quiet-sales")
    ]
    # WeData: SkipEventListening (default true) ignores event dependency: the backfill triggers nothing
    request = {"ProjectId": "1", "TaskIds": ["dw_sales"], "DataBackfillRangeList": [{"StartDate": "2025-11-21", "EndDate": "2025-11-21"}]}  # fmt: skip
    headers = {"X-TC-Action": "CreateDataBackfillPlan"}
    assert _preview(airflow, "wedata", "", request, headers=headers)["Preview"]["asset_consumers"] == []
    listening = _preview(airflow, "wedata", "", {**request, "SkipEventListening": False}, headers=headers)
    assert listening["Preview"]["asset_consumers"] == ["dw_sales_report"]
