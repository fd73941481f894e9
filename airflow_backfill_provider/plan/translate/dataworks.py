"""Alibaba Cloud DataWorks backfills as plans: ``RunCycleDagNodes`` (old API, seed 001) and
``CreateWorkflowInstances`` with Type ``SupplementData`` (new API, seed 004).

Both select tasks the same way: the root(s) and the included tasks run, excluded tasks are dry-run
(DataWorks' "dry-run instances": success without running the script), nothing else runs.
"""

from __future__ import annotations

from typing import Any

from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.plan.translate.dms import ALIBABA_COMMON
from airflow_backfill_provider.plan.translate.draft import Draft
from airflow_backfill_provider.plan.translate.idmap import IdMap
from airflow_backfill_provider.plan.translate.request import Request

PARALLEL_GROUPS = 2
"""DataWorks' ``Parallelism: true`` (old API): its console's default of two groups in parallel"""
PROD = "runs in the deployment this Airflow is: point the script at the Airflow of that environment"
FIRST_WORKFLOW = "1"
"""WorkflowId of auto triggered tasks: the DAG is the one of the root tasks"""


def _select(
    draft: Draft, roots: list[str], include: list[str], exclude: list[str], fields: tuple[str, str, str]
) -> None:
    """The roots and the included tasks run, excluded ones are dry-run; ``fields`` name where the
    request gave roots, include and exclude."""
    root_field, include_field, exclude_field = fields
    draft.set("tasks.roots", roots, root_field)
    draft.set("tasks.downstream", False, root_field)
    if include:
        draft.set("tasks.include", include, include_field)
    if exclude:
        draft.set("tasks.exclude", exclude, exclude_field)


def _environment(request: Request, name: str) -> None:
    env = request.text(name)
    if env is not None and env.lower() not in ("prod",):
        request.error(name, f"{env!r}: only Prod is read: this Airflow {PROD}")


def run_cycle_dag_nodes(data: Any, ids: IdMap) -> BackfillPlan:
    request = Request(data, "dataworks-legacy", ignored=tuple(c for c in ALIBABA_COMMON if c != "RegionId"))
    draft = Draft(request, ids)
    request.choice("Action", {"RunCycleDagNodes": None})
    draft.tag("RegionId", request.text("RegionId", max_length=64))
    _environment(request, "ProjectEnv")
    draft.set("name", request.text("Name", required=True, max_length=200), "Name")
    root = request.text("RootNodeId", required=True, max_length=250)
    roots = draft.tasks("RootNodeId", [root]) if root else []
    include = draft.tasks("IncludeNodeIds", request.ids("IncludeNodeIds", required=True)) or []
    exclude = draft.tasks("ExcludeNodeIds", request.ids("ExcludeNodeIds")) or []
    _select(draft, roots or [], include, exclude, ("RootNodeId", "IncludeNodeIds", "ExcludeNodeIds"))
    start = request.date("StartBizDate", required=True)
    end = request.date("EndBizDate", required=True)
    window = _window(request, "BizBeginTime", "BizEndTime")
    if start and end:
        draft.set("ranges", [{"start": start.isoformat(), "end": end.isoformat(), **window}], "StartBizDate")
    parallel = request.boolean("Parallelism")
    if parallel is None and "Parallelism" not in request.data:
        request.error("Parallelism", "is required: true or false")
    draft.set("parallelism", PARALLEL_GROUPS if parallel else 1, "Parallelism")
    params = request.obj("NodeParams")
    if params:
        draft.task_params("NodeParams", params)
    return draft.plan(())


def _window(request: Request, start: str, end: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """``HH:mm:ss`` start and end of a sub-daily backfill as a range's ``window``."""
    source = data if data is not None else request.data
    if data is None:
        request.taken |= {start, end}
    begin, finish = source.get(start), source.get(end)
    if begin in (None, "") and finish in (None, ""):
        return {}
    if begin in (None, "") or finish in (None, ""):
        request.error(end if begin else start, f"give both {start} and {end}")
        return {}
    return {"window": {"start": str(begin), "end": str(finish)}}


def create_workflow_instances(data: Any, ids: IdMap) -> BackfillPlan:
    request = Request(data, "dataworks", ignored=ALIBABA_COMMON)
    draft = Draft(request, ids)
    request.choice("Action", {"CreateWorkflowInstances": None})
    draft.tag("ProjectId", request.text("ProjectId", required=True, max_length=64))
    _environment(request, "EnvType")
    request.choice("Type", {"SupplementData": None})
    if request.data.get("Type") in (None, ""):
        request.error("Type", "is required: SupplementData (a backfill)")
    workflow = request.text("WorkflowId", required=True, max_length=250)
    if workflow is not None and workflow != FIRST_WORKFLOW:
        draft.dag("WorkflowId", workflow)
    draft.set("name", request.text("Name", required=True, max_length=200), "Name")
    _periods(request, draft)
    workflow_params = request.raw("WorkflowParameters")
    if workflow_params is not None:
        draft.set("conf", request.params("WorkflowParameters", workflow_params), "WorkflowParameters")
    task_params = request.obj("TaskParameters")
    if task_params:
        draft.task_params("TaskParameters", task_params)
    auto_start = request.boolean("AutoStartEnabled", default=True)
    draft.set("paused", not auto_start, "AutoStartEnabled")
    _run_properties(request, draft, ids)
    draft.set("comment", request.text("Comment"), "Comment")
    tags = request.objects("Tags", max_items=50)
    for i, tag in enumerate(tags):
        key, value = tag.get("Key"), tag.get("Value")
        if not key:
            request.error(f"Tags.{i}.Key", "is required")
            continue
        draft.set("tags", [*draft.fields.get("tags", []), f"{key}:{value}" if value else str(key)], "Tags")
    request.choice("TagCreationPolicy", {"Append": None, "Overwrite": None})
    return draft.plan(())


def _periods(request: Request, draft: Draft) -> None:
    periods = request.obj("Periods", required=True) or {}
    dates = periods.get("BizDates")
    if not isinstance(dates, list) or not dates or not all(isinstance(d, dict) for d in dates):
        request.error("Periods.BizDates", "is required: a list of {StartBizDate, EndBizDate}")
        return
    if len(dates) > 7:
        request.error("Periods.BizDates", f"{len(dates)} data timestamp ranges: DataWorks allows up to seven")
        return
    window = _window(
        request,
        "Periods.StartTime",
        "Periods.EndTime",
        data={"Periods.StartTime": periods.get("StartTime"), "Periods.EndTime": periods.get("EndTime")},
    )
    for key in periods:
        if key not in ("BizDates", "StartTime", "EndTime"):
            request.error(f"Periods.{key}", "unknown field: Periods has BizDates, StartTime and EndTime")
    ranges = []
    for i, entry in enumerate(dates):
        start = request.date("StartBizDate", data=entry)
        end = request.date("EndBizDate", data=entry)
        if start is None or end is None:
            request.error(f"Periods.BizDates.{i}", "needs StartBizDate and EndBizDate (yyyy-MM-dd)")
            continue
        ranges.append({"start": start.isoformat(), "end": end.isoformat(), **window})
    draft.set("ranges", ranges, "Periods.BizDates")


RUN_PROPERTIES = (
    "RootTaskIds",
    "IncludeTaskIds",
    "ExcludeTaskIds",
    "IncludeProjectIds",
    "ExcludeProjectIds",
    "Mode",
    "Analysis",
    "RunPolicy",
    "Alert",
    "Parallelism",
    "Order",
    "RuntimeResource",
    "Priority",
    "PriorityWeightStrategy",
)


def _run_properties(request: Request, draft: Draft, ids: IdMap) -> None:
    props = request.obj("DefaultRunProperties") or {}
    inner = Request(props, "dataworks")
    roots = draft.tasks("DefaultRunProperties.RootTaskIds", inner.ids("RootTaskIds")) or []
    include = draft.tasks("DefaultRunProperties.IncludeTaskIds", inner.ids("IncludeTaskIds")) or []
    exclude = draft.tasks("DefaultRunProperties.ExcludeTaskIds", inner.ids("ExcludeTaskIds")) or []
    if roots or include:
        where = "DefaultRunProperties."
        _select(
            draft,
            roots,
            include,
            exclude,
            (f"{where}RootTaskIds", f"{where}IncludeTaskIds", f"{where}ExcludeTaskIds"),
        )
    elif "dag_id" not in draft.fields:
        request.error(
            "DefaultRunProperties.RootTaskIds", "name the root tasks (or a WorkflowId other than 1)"
        )
    elif exclude:
        draft.set("tasks.exclude", exclude, "DefaultRunProperties.ExcludeTaskIds")
    for field, plan_field in (("IncludeProjectIds", "dags.include"), ("ExcludeProjectIds", "dags.exclude")):
        dags = [
            dag
            for i, project in enumerate(inner.ids(field))
            for dag in ids.project(request, f"DefaultRunProperties.{field}.{i}", project)
        ]
        if dags:
            draft.set("downstream_dags", True, f"DefaultRunProperties.{field}")
            draft.set(plan_field, dags, f"DefaultRunProperties.{field}")
    inner.choice("Mode", {"ManualSelection": None})
    analysis = inner.obj("Analysis") or {}
    for key in ("Enabled", "Blocked"):
        if key in analysis and str(analysis[key]).lower() not in ("true", "1"):
            request.error(
                f"DefaultRunProperties.Analysis.{key}",
                "not supported: a plan is always checked before anything is created, and a plan that fails "
                "the check is never created; drop Analysis or set Enabled and Blocked true",
            )
    policy = inner.obj("RunPolicy")
    if policy:
        _run_policy(request, draft, policy)
    alert = inner.obj("Alert")
    if alert:
        _alert(request, draft, ids, alert)
    draft.set("parallelism", inner.integer("Parallelism", 1, 10), "DefaultRunProperties.Parallelism")
    draft.set("order", inner.choice("Order", {"Asc": "asc", "Desc": "desc"}), "DefaultRunProperties.Order")
    resource = inner.text("RuntimeResource", max_length=256)
    if resource is not None:
        draft.set("queue", ids.queue(resource), "DefaultRunProperties.RuntimeResource")
    draft.set("priority_weight", inner.integer("Priority", 1, 11), "DefaultRunProperties.Priority")
    draft.set(
        "weight_rule",
        inner.choice(
            "PriorityWeightStrategy",
            {"Upstream": "upstream", "Downstream": "downstream", "Disable": "absolute"},
        ),
        "DefaultRunProperties.PriorityWeightStrategy",
    )
    inner.leftovers(RUN_PROPERTIES)
    request.errors += [
        type(e)(f"DefaultRunProperties.{e.loc}" if e.loc else "DefaultRunProperties", e.msg)
        for e in inner.errors
    ]


def _run_policy(request: Request, draft: Draft, policy: dict[str, Any]) -> None:
    where = "DefaultRunProperties.RunPolicy"
    kind = str(policy.get("Type") or "")
    if kind.lower() != "daily":
        request.error(
            f"{where}.Type", f"{kind!r}: only Daily run policies are read (lots start daily in a window)"
        )
    start, end = policy.get("StartTime"), policy.get("EndTime")
    if start and end:
        draft.set("run_window", {"start": str(start), "end": str(end)}, f"{where}.StartTime")
    elif start or end:
        request.error(f"{where}.EndTime", "give both StartTime and EndTime")
    immediately = policy.get("Immediately")
    if immediately is not None:
        draft.set(
            "run_future",
            "now" if str(immediately).lower() in ("true", "1") else "wait",
            f"{where}.Immediately",
        )
    for key in policy:
        if key not in ("Type", "StartTime", "EndTime", "Immediately"):
            request.error(
                f"{where}.{key}", "unknown field: RunPolicy has Type, StartTime, EndTime and Immediately"
            )


ALERT_ON = {"success": ["success"], "failure": ["failure"], "successfailure": ["success", "failure"]}


def _alert(request: Request, draft: Draft, ids: IdMap, alert: dict[str, Any]) -> None:
    where = "DefaultRunProperties.Alert"
    kind = str(alert.get("Type") or "").replace("_", "").lower()
    if kind in ("", "none"):
        return
    on = ALERT_ON.get(kind) or ALERT_ON.get(kind + "s")  # the seed's own example writes "Succes"
    if on is None:
        request.error(
            f"{where}.Type", f"{alert.get('Type')!r} is not one of Success, Failure, SuccessFailure, None"
        )
        return
    notice = str(alert.get("NoticeType") or "")
    if not notice:
        request.error(f"{where}.NoticeType", "is required with an alert Type")
        return
    spec = ids.notifier(request, f"{where}.NoticeType", notice)
    if spec is not None:
        draft.set("notify", {"on": on, "notifiers": [spec.model_dump()]}, where)
    for key in alert:
        if key not in ("Type", "NoticeType"):
            request.error(f"{where}.{key}", "unknown field: Alert has Type and NoticeType")
