"""The cloud schedulers' own backfill requests against a real Airflow (issue 14): each seed's example
request through its compat endpoint and through ``airflow backfill-plans import``, on DAGs shaped like
the seeds' workflows (dags/seed_dags.py) and the deployment's id map (seed_id_map.yaml)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.harness import HERE, Airflow
from tests.integration.plans import get, ledger, lots, notifications, wait_for

COMPAT = "/backfill/compat"


def plan_name(airflow: Airflow, plan_id: Any) -> str:
    return str(get(airflow, f"/plans/{plan_id}")["name"])


def ran(airflow: Airflow, name: str) -> list[tuple[str, str]]:
    """(data date, task) of every task that ran, in the order they began."""
    return [(e["ds"], e["task_id"]) for e in sorted(ledger(airflow, name), key=lambda e: e["began"])]


def plans_count(airflow: Airflow) -> int:
    return int(airflow.sql("SELECT count(*) FROM backfill_plan")[0][0])


def test_dms_backfill_form_request_runs_its_nodes_in_reverse_date_order(airflow: Airflow):
    # Alibaba Cloud's RPC style: form fields, a list as StartNodeIds.N, booleans as 0/1
    response = airflow.client().post(
        f"{airflow.url}{COMPAT}/dms/BackFill",
        data={
            "Tid": "3001",
            "DagId": "15001",
            "StartNodeIds.1": "2",
            "IsTriggerSubTree": "true",
            "BackFillDateBegin": "2022-01-14",
            "BackFillDateEnd": "2022-01-17",
            "Interval": "24",
            "Asc": "0",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # as seed 000 shows: RequestId, Success and the backfill's NodeId
    assert body == {"RequestId": response.headers["X-Request-ID"], "Success": True, "NodeId": body["NodeId"]}
    name = response.headers["X-Backfill-Plan"]
    plan = wait_for(airflow, name)
    assert plan["state"] == "success", plan["counts"]
    assert plan["dag_id"] == "dms_flow" and plan["total_lots"] == 4
    done = ran(airflow, name)
    assert {task for _, task in done} == {"transform", "load"}  # extract (node 1) is dry-run
    assert [ds for ds, task in done if task == "transform"] == [
        "2022-01-17",
        "2022-01-16",
        "2022-01-15",
        "2022-01-14",
    ]


def test_dataworks_legacy_seed_sample_request_verbatim(airflow: Airflow):
    """RunCycleDagNodes exactly as the seed's sample request writes it, in the query string."""
    query = (
        "Action=RunCycleDagNodes&ProjectEnv=PROD&StartBizDate=2020-05-20 00:00:00&Name=xm_test"
        "&RootNodeId=1234&ExcludeNodeIds=1234,123465&BizBeginTime=00:00:00&BizEndTime=01:00:00"
        '&Parallelism=false&EndBizDate=2020-05-21 00:00:00&NodeParams={74324:"key1=val1 key2=val"}'
        "&IncludeNodeIds=74324,74325"
    )
    response = airflow.client().post(f"{airflow.url}{COMPAT}/dataworks-legacy/?{query}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["Success"] is True and body["HttpStatusCode"] == 200
    name = plan_name(airflow, body["Data"])
    plan = wait_for(airflow, name)
    assert plan["title"] == "xm_test"  # DataWorks' Name is a label
    assert plan["state"] == "success", plan["counts"]
    # a business date's instances are the ones DataWorks schedules the day after it (seed 001: the
    # data timestamp is the day before the instance's scheduled time), inside BizBeginTime-BizEndTime
    found = lots(airflow, name)
    assert [lot["system_date"] for lot in found] == ["2020-05-20", "2020-05-20", "2020-05-21", "2020-05-21"]
    assert [lot["data_interval_start"][:13] for lot in found] == [
        "2020-05-21T00",
        "2020-05-21T01",
        "2020-05-22T00",
        "2020-05-22T01",
    ]
    entries = ledger(airflow, name)
    assert sorted({e["task_id"] for e in entries}) == ["load", "report"]  # root, audit: dry-run
    assert len(entries) == 8
    params = {e["task_id"]: e["params"] for e in entries}
    assert params["load"] == {"key1": "val1", "key2": "val"}
    assert params["report"] == {"key1": "default", "key2": "default"}
    ordered = sorted(entries, key=lambda e: e["began"])  # Parallelism false: one lot at a time
    assert [e["start"][:13] for e in ordered if e["task_id"] == "load"] == [
        "2020-05-21T00",
        "2020-05-21T01",
        "2020-05-22T00",
        "2020-05-22T01",
    ]


DATAWORKS_EXAMPLE = {
    "ProjectId": 100,
    "EnvType": "Prod",
    "WorkflowId": 1,
    "Name": "WorkflowInstance1",
    "Periods": {
        "BizDates": [{"StartBizDate": "2024-11-20", "EndBizDate": "2024-11-24"}],
        "StartTime": "00:00:00",
        "EndTime": "23:59:59",
    },
    "Type": "SupplementData",
    "WorkflowParameters": "key1=value1 key2=value2",
    "TaskParameters": json.dumps({"1001": "key1=val2 key2=val2", "1002": "key1=val2 key2=val2"}),
    "AutoStartEnabled": True,
    "DefaultRunProperties": {
        "RootTaskIds": [1234],
        "IncludeTaskIds": [1234],
        "ExcludeTaskIds": [4321],
        "IncludeProjectIds": [100],
        "ExcludeProjectIds": [200],
        "Mode": "ManualSelection",
        "Analysis": {"Enabled": True, "Blocked": True},
        "RunPolicy": {"StartTime": "00:00:00", "EndTime": "23:59:59", "Type": "Daily", "Immediately": False},
        "Alert": {"Type": "Succes", "NoticeType": "Sms"},
        "Parallelism": 2,
        "Order": "Asc",
        "RuntimeResource": "S_res_group_524258031846018_1684XXXXXXXXX",
        "Priority": 1,
        "PriorityWeightStrategy": "Upstream",
    },
    "Comment": "create for test",
    "Tags": [{"Key": "tagKey", "Value": "tagValue"}],
    "TagCreationPolicy": "Append",
}


def test_dataworks_create_workflow_instances_seed_example(airflow: Airflow):
    response = airflow.client().post(
        f"{airflow.url}{COMPAT}/dataworks/CreateWorkflowInstances", json=DATAWORKS_EXAMPLE
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"RequestId", "OperationId", "Warnings"}  # as seed 004 shows, and what runs otherwise
    assert any("WorkflowParameters" in w for w in body["Warnings"])  # WorkflowId 1: they change nothing
    name = plan_name(airflow, body["OperationId"])
    plan = wait_for(airflow, name, timeout=400)
    assert plan["title"] == "WorkflowInstance1"
    assert plan["state"] == "success", plan["counts"]
    found = lots(airflow, name)
    assert {lot["dag_id"] for lot in found} == {"dw_sales"}  # ManualSelection: project 100 adds nothing
    # business dates 11-20 to 11-24: the daily runs scheduled on 11-21 to 11-25 (a cron trigger's run
    # is its scheduled time)
    assert [lot["label"] for lot in found] == [f"2024-11-{d}" for d in range(21, 26)]
    assert [lot["system_date"] for lot in found] == [f"2024-11-{d}" for d in range(20, 25)]
    entries = ledger(airflow, name)
    assert {e["task_id"] for e in entries} == {"extract"}  # load and check (4321) are dry-run
    assert all(e["params"] == {"key1": "val2", "key2": "val2"} for e in entries)  # TaskParameters 1001
    queues = airflow.sql(
        "SELECT DISTINCT dag_id, task_id, queue FROM task_instance WHERE run_id LIKE :p",
        p=f"backfill_plan__{name}__%",
    )
    ran_tasks = {(e["dag_id"], e["task_id"]) for e in entries}
    assert {q[2] for q in queues if (q[0], q[1]) in ran_tasks} == {"backfill"}  # RuntimeResource
    result = airflow.client().get(
        f"{airflow.url}{COMPAT}/dataworks/GetCreateWorkflowInstancesResult",
        params={"OperationId": body["OperationId"]},
    )
    assert result.status_code == 200, result.text
    assert result.json()["Result"]["Status"] == "Success"
    assert len(result.json()["Result"]["WorkflowInstanceIds"]) == 5
    notified = notifications(airflow, name)
    assert [(e["notifier"], e["state"]) for e in notified] == [("sms", "success")]


def test_wedata_create_data_backfill_plan_as_its_sdk_sends_it(airflow: Airflow):
    response = airflow.client().post(
        f"{airflow.url}{COMPAT}/wedata/",
        headers={"X-TC-Action": "CreateDataBackfillPlan", "X-TC-Version": "2025-08-06"},
        json={
            "ProjectId": "1460947878944567296",
            "TaskIds": ["20250827115253729"],
            "DataBackfillRangeList": [{"StartDate": "2025-09-02", "EndDate": "2025-09-02"}],
            "SkipEventListening": True,
        },
    )
    assert response.status_code == 200, response.text
    data = response.json()["Response"]
    assert "Error" not in data and data["RequestId"]
    plan = get(airflow, f"/plans/{data['Data']['DataBackfillPlanId']}")
    assert plan["timezone"] == "UTC"  # no TimeZone: the DAG's own, so a date is the DAG's calendar day
    done = wait_for(airflow, plan["name"])
    assert done["state"] == "success" and done["total_lots"] == 1
    assert sorted(task for _, task in ran(airflow, plan["name"])) == ["orders", "summary"]


def test_aloudata_create_list_and_detail(airflow: Airflow):
    base = f"{airflow.url}{COMPAT}/aloudata/anymetrics/api/v1"
    created = airflow.client().post(
        f"{base}/accelerate/task/create",
        headers={"tenant-id": "t1", "auth-type": "UID", "auth-value": "u1"},
        json={
            "planId": "5468b0c0462e40e08e44108d8164c7c3",
            "startTime": "2025-01-01",
            "endTime": "2025-01-04",
            "dateIntervalOfLot": 2,
        },
    )
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["success"] is True and body["code"] == "200" and body["errorMsg"] is None  # as seed 002
    dag_name = body["data"]
    wait_for(airflow, dag_name)
    page = airflow.client().get(
        f"{base}/accelerate/task/instance/list", params={"dagName": dag_name, "pageIndex": 2, "pageSize": 1}
    )
    assert page.status_code == 200, page.text
    listed = page.json()
    assert (listed["dagName"], listed["pageIndex"], listed["pageSize"], listed["total"]) == (
        dag_name,
        2,
        1,
        2,
    )
    [instance] = listed["instances"]
    assert instance["status"] == "SUCCESS" and instance["mtGuid"].startswith("airflow.aloudata_metrics.")
    assert (instance["startPartition"], instance["endPartition"]) == ("2025-01-03", "2025-01-04")
    detail = airflow.client().get(f"{base}/scheduler/task/detail", params={"id": instance["id"]}).json()
    assert detail["taskInstanceId"] == int(instance["id"]) and detail["status"] == "SUCCESS"
    assert detail["runType"] == "MANUAL" and detail["retryCnt"] == 0
    assert detail["acceleratePlanUuid"] == ["5468b0c0462e40e08e44108d8164c7c3"]
    assert list(detail["statusTime"]) == ["WAITING", "RUNNING", "SUCCESS"]
    assert detail["startPartitionTime"] == "2025-01-03T00:00:00"
    assert [set(m) for m in detail["mtGuid"]] == [{"catalog", "schema", "table"}]  # the seed's shape


def test_bad_requests_name_every_field_in_the_systems_shape_and_create_nothing(airflow: Airflow):
    before = plans_count(airflow)
    dms = airflow.client().post(
        f"{airflow.url}{COMPAT}/dms/BackFill",
        json={"DagId": "99999", "BackFillDate": "2022-13-01", "Interval": 0, "Retries": 3},
    )
    assert dms.status_code == 422
    error = dms.json()
    assert error["Success"] is False and error["Code"] == "InvalidParameter"
    for field in ("DagId", "BackFillDate", "Interval", "Retries"):
        assert f"{field}:" in error["ErrorMessage"], error["ErrorMessage"]
    wedata = airflow.client().post(
        f"{airflow.url}{COMPAT}/wedata/CreateDataBackfillPlan",
        json={"ProjectId": "1", "TaskIds": ["dw_xm"], "DataTimeOrder": "SIDEWAYS"},
    )
    assert wedata.status_code == 200  # Tencent Cloud answers errors in the body
    assert wedata.json()["Response"]["Error"]["Code"] == "InvalidParameter"
    message = wedata.json()["Response"]["Error"]["Message"]
    assert "DataBackfillRangeList" in message and "DataTimeOrder" in message
    anonymous = airflow.client(None).post(f"{airflow.url}{COMPAT}/dms/BackFill", json={"DagId": "15001"})
    assert anonymous.status_code == 401 and anonymous.json()["Success"] is False
    scoped = airflow.client("scoped").post(
        f"{airflow.url}{COMPAT}/dms/BackFill", json={"DagId": "15001", "BackFillDate": "2022-01-14"}
    )
    assert scoped.status_code == 403 and scoped.json()["Code"] == "Forbidden"
    hidden = next(p for p in get(airflow, "/plans", limit=1000)["plans"] if p["dag_id"] == "dms_flow")
    aloudata = airflow.client("scoped").get(
        f"{airflow.url}{COMPAT}/aloudata/anymetrics/api/v1/scheduler/task/detail",
        params={"id": str(hidden["id"] * 10**8)},
    )
    assert aloudata.status_code == 403 and aloudata.json()["success"] is False
    assert plans_count(airflow) == before


@pytest.mark.parametrize("preview", [True, False])
def test_cli_import_of_the_dms_sample_request(airflow: Airflow, tmp_path: Path, preview: bool):
    request = tmp_path / "backfill.txt"
    request.write_text(
        "http(s)://dms-enterprise.aliyuncs.com/?Action=BackFill\n&DagId=15001\n&BackFillDate=2022-02-01\n"
        "&StartNodeIds=3\n&Asc=true\n&Tid=3001\n"
    )
    args = [
        "backfill-plans",
        "import",
        "--from",
        "dms",
        str(request),
        "--id-map",
        str(HERE / "seed_id_map.yaml"),
    ]
    done = airflow.airflow(*args, *(["--preview"] if preview else []), "--output", "json", check=False)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    if preview:
        assert [lot["label"] for lot in printed] == ["2022-02-01"]
        return
    name = printed[0]["name"]
    assert wait_for(airflow, name)["state"] == "success"
    assert ran(airflow, name) == [("2022-02-01", "load")]


def test_cli_import_refuses_what_it_cannot_honour(airflow: Airflow, tmp_path: Path):
    request = tmp_path / "wedata.json"
    request.write_text(json.dumps({"ProjectId": "1", "TaskIds": ["424242"], "Bogus": 1}))
    done = airflow.airflow("backfill-plans", "import", "--from", "wedata", str(request), check=False)
    assert done.returncode == 1
    assert "TaskIds.0: 424242 is a wedata id" in done.stderr
    assert (
        "Bogus: unknown wedata field" in done.stderr and "DataBackfillRangeList: is required" in done.stderr
    )


SEED_FILES = {
    # the DataWorks old API's sample request as the seed prints it: URL and query string
    "dataworks-legacy": (
        "http(s)://[Endpoint]/?Action=RunCycleDagNodes\n&ProjectEnv=PROD\n&StartBizDate=2020-05-20 00:00:00\n"
        "&Name=xm_test\n&RootNodeId=1234\n&ExcludeNodeIds=1234,123465\n&BizBeginTime=00:00:00\n"
        "&BizEndTime=01:00:00\n&Parallelism=false\n&EndBizDate=2020-05-21 00:00:00\n"
        '&NodeParams={74324:"key1=val1 key2=val"}\n&IncludeNodeIds=74324,74325\n&<Common request parameters>\n'
    ),
    "dataworks": json.dumps(DATAWORKS_EXAMPLE),
    "wedata": json.dumps(
        {
            "ProjectId": "1460947878944567296",
            "TaskIds": ["20250827115253729"],
            "DataBackfillRangeList": [{"StartDate": "2025-09-02", "EndDate": "2025-09-02"}],
            "SkipEventListening": True,
        }
    ),
    "aloudata": json.dumps(
        {"planId": "5468b0c0462e40e08e44108d8164c7c3", "startTime": "2025-01-01", "endTime": "2025-01-01"}
    ),
}
SEED_DAGS = {
    "dataworks-legacy": "dw_xm",
    "dataworks": "dw_sales",
    "wedata": "wedata_orders",
    "aloudata": "aloudata_metrics",
}


@pytest.mark.parametrize("system", sorted(SEED_FILES))
def test_cli_import_of_each_seed_example_runs_to_success(airflow: Airflow, tmp_path: Path, system: str):
    """The same requests through ``import`` (the deployment's id map by default): each a new backfill
    that runs again what the compat endpoint already ran."""
    request = tmp_path / "request.txt"
    request.write_text(SEED_FILES[system])
    preview = airflow.airflow(
        "backfill-plans",
        "import",
        "--from",
        system,
        str(request),
        "--preview",
        "--output",
        "json",
        check=False,
    )
    assert preview.returncode == 0, preview.stderr
    assert {lot["dag_id"] for lot in json.loads(preview.stdout)} >= {SEED_DAGS[system]}
    done = airflow.airflow("backfill-plans", "import", "--from", system, str(request), "--wait", check=False)
    assert done.returncode == 0, done.stderr
    assert f"the {system} request as a plan:" in done.stdout and "] " in done.stdout  # plan, progress
    assert "success" in done.stdout.splitlines()[-1]
