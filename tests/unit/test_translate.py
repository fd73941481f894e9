"""Translators of the cloud schedulers' backfill requests (pure code): every field maps or is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_backfill_provider.exceptions import PlanValidationError
from airflow_backfill_provider.plan.translate import IdMap, translate, translate_all
from airflow_backfill_provider.plan.translate.request import iana_from_offset, read_request_text, unflatten

IDS = IdMap.from_file(str(Path(__file__).parents[1] / "integration" / "seed_id_map.yaml"))


def refused(system: str, request: dict, ids: IdMap = IDS) -> dict[str, str]:
    with pytest.raises(PlanValidationError) as caught:
        translate(system, request, ids)
    return {error.loc: error.msg for error in caught.value.fields}


def test_dms_fields_and_history_version():
    plan = translate(
        "dms",
        {
            "DagId": 15001,
            "StartNodeIds": "[2, 3]",
            "IsTriggerSubTree": False,
            "BackFillDateBegin": "2022-01-14",
            "BackFillDateEnd": "2022-09-29",
            "Interval": 6,
            "Asc": 0,
            "HistoryDagId": "16001",
            "Tid": 3,
        },
        IdMap.from_yaml(
            'dms: {dags: {"15001": dms_flow}, tasks: {"2": dms_flow.b, "3": dms_flow.c}}\n'
            'dag_versions: {"16001": 2}'
        ),
    )
    assert (plan.dag_id, plan.lot, plan.order, plan.dag_version) == ("dms_flow", "6h", "desc", 2)
    assert plan.tasks.roots == ["b", "c"] and plan.tasks.downstream is False
    assert plan.tags == ["dms:Tid=3"]


def test_dms_date_rules():
    assert "BackFillDate" in refused("dms", {"DagId": "x"})
    both = refused("dms", {"DagId": "x", "BackFillDate": "2022-01-01", "BackFillDateBegin": "2022-01-01"})
    assert "not both" in both["BackFillDate"]
    assert "both ends" in refused("dms", {"DagId": "x", "BackFillDateBegin": "2022-01-01"})["BackFillDateEnd"]


def test_dataworks_legacy_seed_sample():
    text = (
        "http(s)://[Endpoint]/?Action=RunCycleDagNodes\n&ProjectEnv=PROD\n&StartBizDate=2020-05-20 00:00:00\n"
        "&Name=xm_test\n&RootNodeId=1234\n&ExcludeNodeIds=1234,123465\n&BizBeginTime=00:00:00\n"
        "&BizEndTime=01:00:00\n&Parallelism=false\n&EndBizDate=2020-05-21 00:00:00\n"
        '&NodeParams={74324:"key1=val1 key2=val"}\n&IncludeNodeIds=74324,74325\n&<Common request parameters>'
    )
    plan = translate("dataworks-legacy", read_request_text(text), IDS)
    assert plan.dag_id == "dw_xm" and plan.title == "xm_test" and plan.name is None and plan.parallelism == 1
    assert plan.tasks.roots == ["root"] and plan.tasks.include == ["load", "report"]
    assert plan.tasks.exclude == ["root", "audit"] and plan.tasks.downstream is False
    assert plan.ranges[0].window is not None and plan.ranges[0].window.end == "01:00"
    assert plan.ranges[0].window.sub_daily_only  # hourly nodes only: a daily DAG runs whole days
    assert plan.reprocess == "all"  # a backfill regenerates
    assert plan.task_params == {"load": {"key1": "val1", "key2": "val"}}


def test_dataworks_dev_environment_and_other_dag_refused():
    errors = refused(
        "dataworks-legacy",
        {
            "ProjectEnv": "DEV",
            "Name": "x",
            "RootNodeId": "dw_xm.root",
            "IncludeNodeIds": "dms_flow.load",
            "StartBizDate": "2020-05-20",
            "EndBizDate": "2020-05-20",
            "Parallelism": "true",
        },
    )
    assert "only Prod" in errors["ProjectEnv"]
    assert "backfills one DAG" in errors["IncludeNodeIds.0"]


def test_dataworks_create_workflow_instances_example():
    from tests.integration.test_compat import DATAWORKS_EXAMPLE

    plans = translate_all("dataworks", DATAWORKS_EXAMPLE, IDS)
    (plan,) = plans
    assert plan.dag_id == "dw_sales" and plan.title == "WorkflowInstance1"
    assert plan.dates_by == "bizdate"  # an instance is named by the day before it is scheduled
    assert plan.tasks.roots == ["extract"] and plan.tasks.exclude == ["check"]
    assert not plan.downstream_dags  # ManualSelection: project 100 is the request's own, it adds nothing
    # WorkflowId 1: WorkflowParameters take effect only for a named workflow (seed 004)
    assert plan.conf == {} and any("WorkflowParameters" in w for w in plans.warnings)
    named = translate("dataworks", {**DATAWORKS_EXAMPLE, "WorkflowId": "dw_sales"}, IDS)
    assert named.conf == {"key1": "value1", "key2": "value2"}
    assert plan.task_params == {
        "extract": {"key1": "val2", "key2": "val2"},
        "load": {"key1": "val2", "key2": "val2"},
    }
    assert (plan.parallelism, plan.order, plan.queue) == (2, "asc", "backfill")
    assert (plan.priority_weight, plan.weight_rule) == (1, "upstream")
    assert plan.run_window is not None and (plan.run_window.start, plan.run_window.end) == (
        "00:00",
        "23:59:59",
    )
    assert plan.run_future == "wait" and plan.paused is False
    assert plan.notify is not None and plan.notify.on == ["success"]
    assert plan.notify.targets == ["sms"]
    assert plan.comment == "create for test" and "tagKey:tagValue" in plan.tags


def test_dataworks_refusals_name_the_nested_field():
    from tests.integration.test_compat import DATAWORKS_EXAMPLE

    request = {**DATAWORKS_EXAMPLE, "Type": "SmokeTest"}
    request["DefaultRunProperties"] = {
        **request["DefaultRunProperties"],
        "Analysis": {"Enabled": False},
        "Alert": {"Type": "Failure", "NoticeType": "Mail"},
        "Parallelism": 20,
        "Speed": 1,
    }
    errors = refused("dataworks", request)
    assert "SupplementData" in errors["Type"]
    assert "DefaultRunProperties.Analysis.Enabled" not in errors  # no analysis gate: nothing to refuse
    assert "`notifiers`" in errors["DefaultRunProperties.Alert.NoticeType"]
    assert "1 to 10" in errors["DefaultRunProperties.Parallelism"]
    assert "unknown" in errors["DefaultRunProperties.Speed"]


def test_wedata_example_and_fields():
    plan = translate(
        "wedata",
        {
            "ProjectId": "1460947878944567296",
            "TaskIds": ["20250827115253729"],
            "DataBackfillRangeList": [{"StartDate": "2025-09-02", "EndDate": "2025-10-02"}],
            "SkipEventListening": True,
            "CheckParentType": "MAKE_SCOPE",
            "RedefineSelfWorkflowDependency": "yes",
            "RedefineParallelNum": 3,
            "SchedulerResourceGroupId": "S_res_group_524258031846018_1684XXXXXXXXX",
            "RedefineParamList": [{"Key": "key1", "Value": "v"}],
            "DataTimeOrder": "REVERSE",
            "RedefineCycleType": "MONTH_CYCLE",
            "TimeZone": "UTC+5",
        },
        IDS,
    )
    assert plan.dag_id == "wedata_orders" and plan.tasks.include is None  # the whole workflow
    assert (plan.parent_check, plan.self_dependency, plan.parallelism) == ("scope", "on", 3)
    # REVERSE yields to self-dependency: "priority is given to dependency order" (seed 003)
    assert (plan.queue, plan.conf, plan.order, plan.lot) == ("backfill", {"key1": "v"}, "asc", None)
    assert [d.isoformat() for d in plan.dates] == ["2025-10-01"]  # MONTH_CYCLE: first days of months
    assert plan.timezone == "Etc/GMT-5"
    no_zone = translate(
        "wedata",
        {
            "ProjectId": "1",
            "TaskIds": ["dw_xm.load"],
            "DataBackfillRangeList": [{"StartDate": "2025-09-02", "EndDate": "2025-09-02"}],
            "DataBackfillPlanName": "补数据_xm_test",
        },
    )
    assert no_zone.timezone is None  # the DAG's own zone: a date is the DAG's calendar day
    assert no_zone.title == "补数据_xm_test" and no_zone.name is None


def test_aloudata_create():
    plan = translate(
        "aloudata",
        {
            "planName": "aloudata_metrics",
            "startTime": "2025-01-01",
            "endTime": "2025-01-10",
            "dateIntervalOfLot": 3,
        },
    )
    assert (plan.dag_id, plan.lot) == ("aloudata_metrics", "3d")
    assert "planId" in refused("aloudata", {"startTime": "2025-01-01", "endTime": "2025-01-01"})


def test_plan_errors_are_named_by_the_request_field():
    errors = refused(
        "wedata",
        {
            "ProjectId": "1",
            "TaskIds": ["x"],
            "DataBackfillRangeList": [{"StartDate": "2025-09-02", "EndDate": "2025-09-02"}],
            "TimeZone": "Mars/Olympus",
        },
    )
    assert "IANA" in errors["TimeZone"] and "(plan field timezone)" in errors["TimeZone"]


def test_request_reading():
    assert unflatten({"A.1": "x", "A.2": "y", "B.1.C": "1", "B.1.D": "2", "E": "e"}) == {
        "E": "e",
        "A": ["x", "y"],
        "B": [{"C": "1", "D": "2"}],
    }
    assert iana_from_offset("UTC+8") == "Etc/GMT-8" and iana_from_offset("GMT-03:00") == "Etc/GMT+3"
    assert iana_from_offset("Asia/Shanghai") == "Asia/Shanghai"
    with pytest.raises(PlanValidationError):
        read_request_text("just words")


def test_id_maps_keep_each_systems_ids_apart():
    assert IDS.for_system("dataworks-legacy").tasks["1234"] == "dw_xm.root"
    assert IDS.for_system("dataworks").tasks["1234"] == "dw_sales.extract"
    assert IDS.for_system("dms").queues  # shared sections stay
    with pytest.raises(PlanValidationError) as caught:
        IdMap.from_yaml("tasks: [1, 2]")
    assert caught.value.fields[0].loc == "id_map.tasks"


WEDATA = {"ProjectId": "1", "TaskIds": ["wedata_orders"], "DataBackfillRangeList": [{"StartDate": "2025-01-15", "EndDate": "2025-03-20"}]}  # fmt: skip


def test_wedata_month_cycle_runs_the_first_day_of_each_month():
    plan = translate("wedata", {**WEDATA, "RedefineCycleType": "MONTH_CYCLE"}, IDS)
    assert [d.isoformat() for d in plan.dates] == ["2025-02-01", "2025-03-01"] and plan.ranges == []
    assert plan.lot is None  # the daily DAG's own runs of those days
    refused_ = refused(
        "wedata",
        {**WEDATA, "DataBackfillRangeList": [{"StartDate": "2025-01-15", "EndDate": "2025-01-20"}], "RedefineCycleType": "MONTH_CYCLE"},
    )  # fmt: skip
    assert "no first day" in refused_["RedefineCycleType"]


def test_nothing_nested_is_dropped_and_booleans_are_booleans():
    from tests.integration.test_compat import DATAWORKS_EXAMPLE

    request = {**DATAWORKS_EXAMPLE}
    request["Periods"] = {"BizDates": [{"StartBizDate": "2024-11-20", "EndBizDate": "2024-11-24", "Hour": 3}]}
    request["DefaultRunProperties"] = {
        **request["DefaultRunProperties"],
        "Analysis": {"Enabled": True, "Blocked": True, "Deep": True},
        "RunPolicy": {"Type": "Daily", "Immediately": "yes"},
    }
    request["Tags"] = [{"Key": "k", "Value": "v", "Color": "red"}]
    errors = refused("dataworks", request)
    assert "unknown" in errors["Periods.BizDates.0.Hour"]
    assert "unknown" in errors["DefaultRunProperties.Analysis.Deep"]
    assert "not a boolean" in errors["DefaultRunProperties.RunPolicy.Immediately"]
    assert "unknown" in errors["Tags.0.Color"]
    wedata = refused(
        "wedata",
        {**WEDATA, "DataBackfillRangeList": [{"StartDate": "2025-01-15", "EndDate": "2025-01-16", "Foo": 1}], "RedefineParamList": [{"Key": "a", "Value": "b", "Type": "x"}]},
    )  # fmt: skip
    assert (
        "unknown" in wedata["DataBackfillRangeList.0.Foo"] and "unknown" in wedata["RedefineParamList.0.Type"]
    )


def test_errors_name_the_requests_own_time_fields():
    text = (
        "Action=RunCycleDagNodes&ProjectEnv=PROD&StartBizDate=2020-05-20&EndBizDate=2020-05-21&Name=x"
        "&RootNodeId=1234&IncludeNodeIds=74324&BizBeginTime=25:00:00&BizEndTime=01:00:00&Parallelism=false"
    )
    errors = refused("dataworks-legacy", read_request_text(text))
    assert "BizBeginTime" in errors and "StartBizDate" not in errors, errors
    assert "25:00:00" in errors["BizBeginTime"]


def test_dataworks_biz_times_in_periods_apply_to_hourly_tasks_only():
    from tests.integration.test_compat import DATAWORKS_EXAMPLE

    request = {**DATAWORKS_EXAMPLE, "Periods": {"BizDates": [{"StartBizDate": "2024-11-20", "EndBizDate": "2024-11-21"}], "StartTime": "08:00:00", "EndTime": "10:00:00"}}  # fmt: skip
    plan = translate("dataworks", request, IDS)
    assert plan.ranges[0].window is not None and plan.ranges[0].window.sub_daily_only


def test_manual_selection_projects_bound_the_selection_and_add_no_dag():
    from tests.integration.test_compat import DATAWORKS_EXAMPLE

    request = {**DATAWORKS_EXAMPLE}
    request["DefaultRunProperties"] = {**request["DefaultRunProperties"], "ExcludeProjectIds": [100]}
    assert "ExcludeProjectIds" in "".join(refused("dataworks", request))


def test_a_wedata_request_over_several_workflows_is_one_plan_per_dag():
    from airflow_backfill_provider.plan.translate import as_new_backfill, group_names, translate_all

    plans = translate_all(
        "wedata",
        {
            **WEDATA,
            "TaskIds": ["20250827115253729", "dw_xm.load", "dw_xm.report"],
            "DataBackfillPlanName": "多",
        },
        IDS,
    )
    # one plan over both workflows: each date's lots wait for their parent DAG's lots (dependency order)
    (plan,) = plans
    assert (plan.dag_id, plan.tasks.include, plan.dags.add) == ("wedata_orders", None, ["dw_xm"])
    assert plan.dags.tasks["dw_xm"].include == ["load", "report"] and plan.parent_check == "scope"
    assert plan.title == "多"
    named = as_new_backfill(plans)
    assert [p.name for p in named] == group_names(named[0].name, 1)


def test_dataworks_tasks_of_several_dags_under_workflow_1_are_one_plan_over_them():
    from airflow_backfill_provider.plan.translate import translate_all
    from tests.integration.test_compat import DATAWORKS_EXAMPLE

    request = {**DATAWORKS_EXAMPLE}
    request["DefaultRunProperties"] = {
        **request["DefaultRunProperties"],
        "RootTaskIds": [1234, "dw_xm.root"],
        "IncludeTaskIds": [1234, "dw_xm.load"],
        "ExcludeTaskIds": [4321, "dms_flow.load"],
        "IncludeProjectIds": [],
        "ExcludeProjectIds": [],
    }
    (plan,) = translate_all("dataworks", request, IDS)
    assert (plan.dag_id, plan.dags.add) == ("dw_sales", ["dw_xm"])  # dms_flow: only excluded, nothing runs
    other = plan.dags.tasks["dw_xm"]
    assert (other.roots, other.include, other.exclude) == (["root"], ["load"], [])
    assert plan.tasks.exclude == ["check"] and plan.parent_check == "scope"
    assert set(plan.task_params) == {"extract", "load"} and "dw_xm" not in plan.dags.task_params
    # with a WorkflowId of its own, the request is that one DAG's
    errors = refused("dataworks", {**request, "WorkflowId": "dw_sales"})
    assert any("backfills one DAG" in m for m in errors.values())


def test_a_big_id_map_is_merged_once_per_map_and_looked_up_in_constant_time():
    big = IdMap.from_yaml(
        "dags:\n"
        + "".join(f'  "{n}": dag_{n}\n' for n in range(100_000))
        + 'aloudata:\n  dags: {"x": dag_x}\n'
    )
    first = big.for_system("aloudata")
    assert big.for_system("aloudata") is first  # merged once, not per request
    for n in range(0, 100_000, 1000):
        assert first.dag_key(f"dag_{n}") == str(n)
    assert first.dag_key("dag_x") == "x" and first.dag_key("unmapped") == "unmapped"
    assert "reverse" in first._derived  # one reverse index for every lookup after the first
