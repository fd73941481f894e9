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
    assert _days(airflow, [name], "summary") == ["2025-10-20", "2025-10-21"]
    # the same through import (a file of the request's fields)
    fields = dict(part.split("=", 1) for part in query.split("&"))
    fields["StartBizDate"], fields["EndBizDate"] = "2025-10-22 00:00:00", "2025-10-22 00:00:00"
    name = _import(airflow, tmp_path, "dataworks-legacy", fields)
    assert wait_for(airflow, name)["state"] == "success"
    assert _days(airflow, [name], "summary") == ["2025-10-22"]


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


def test_a_request_over_several_dags_is_one_backfill_polled_by_one_id(airflow: Airflow, tmp_path: Path):
    # WeData TaskIds of two workflows: one plan per DAG, created together, one id answered
    request = {
        "ProjectId": "1",
        "TaskIds": ["20250827115253729", "aloudata_metrics.refresh"],
        "DataBackfillRangeList": [{"StartDate": "2025-11-03", "EndDate": "2025-11-03"}],
    }
    response = airflow.client().post(
        f"{airflow.url}{COMPAT}/wedata/", headers={"X-TC-Action": "CreateDataBackfillPlan"}, json=request
    )
    assert "Error" not in response.json()["Response"], response.text
    names = response.headers["X-Backfill-Plan"].split(", ")
    first = get(airflow, f"/plans/{response.json()['Response']['Data']['DataBackfillPlanId']}")
    assert names == [first["name"], f"{first['name']}.2"]
    assert [get(airflow, f"/plans/{n}")["dag_id"] for n in names] == ["wedata_orders", "aloudata_metrics"]
    for name in names:
        assert wait_for(airflow, name)["state"] == "success"
    assert _days(airflow, names[:1], "orders") == ["2025-11-03"]
    assert _days(airflow, names[1:], "refresh") == ["2025-11-03"]
    # the same through import: both plans, printed and created
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
    imported = [p["name"] for p in json.loads(done.stdout)]
    assert len(imported) == 2 and imported[1] == f"{imported[0]}.2"
    for name in imported:
        assert wait_for(airflow, name)["state"] == "success"
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
    for name in created.headers["X-Backfill-Plan"].split(", "):
        assert wait_for(airflow, name)["state"] == "success"
