"""Alibaba Cloud DataWorks backfills as plans: ``RunCycleDagNodes`` (old API, seed 001) and
``CreateWorkflowInstances`` with Type ``SupplementData`` (new API, seed 004).

Both select tasks the same way: the root(s) and the included tasks run, excluded tasks are dry-run
(DataWorks' "dry-run instances": success without running the script), nothing else runs.
"""

from __future__ import annotations

from typing import Any

from airflow_backfill_provider.plan.model import is_number
from airflow_backfill_provider.plan.translate.dms import ALIBABA_COMMON
from airflow_backfill_provider.plan.translate.draft import Draft, Plans, TaskRefs
from airflow_backfill_provider.plan.translate.idmap import IdMap
from airflow_backfill_provider.plan.translate.request import Request

PARALLEL_GROUPS = 2
"""DataWorks' ``Parallelism: true`` (old API): its console's default of two groups in parallel"""
PROD = "runs in the deployment this Airflow is: point the script at the Airflow of that environment"
FIRST_WORKFLOW = "1"
"""WorkflowId of auto triggered tasks: the DAG is the one of the root tasks"""


def _select(
    draft: Draft, roots: TaskRefs, include: TaskRefs, exclude: TaskRefs, fields: tuple[str, str, str]
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


def run_cycle_dag_nodes(data: Any, ids: IdMap) -> Plans:
    request = Request(data, "dataworks-legacy", ignored=tuple(c for c in ALIBABA_COMMON if c != "RegionId"))
    draft = Draft(request, ids)
    request.choice("Action", {"RunCycleDagNodes": None})
    draft.tag("RegionId", request.text("RegionId", max_length=64))
    _environment(request, "ProjectEnv")
    draft.set("title", request.text("Name", required=True, max_length=200), "Name")  # a label, reused
    root = request.text("RootNodeId", required=True, max_length=250)
    roots = draft.tasks("RootNodeId", [root] if root else [])
    include = draft.tasks("IncludeNodeIds", request.ids("IncludeNodeIds", required=True))
    exclude = draft.tasks("ExcludeNodeIds", request.ids("ExcludeNodeIds"))
    _select(draft, roots, include, exclude, ("RootNodeId", "IncludeNodeIds", "ExcludeNodeIds"))
    start = request.date("StartBizDate", required=True)
    end = request.date("EndBizDate", required=True)
    window = _window(request, "BizBeginTime", "BizEndTime")
    if start and end:
        draft.set("ranges", [{"start": start.isoformat(), "end": end.isoformat(), **window}], "StartBizDate")
        draft.set("dates_by", "bizdate", "StartBizDate")
        draft.name_window("ranges.0", "BizBeginTime", "BizEndTime")
    parallel = request.boolean("Parallelism")
    if parallel is None and "Parallelism" not in request.data:
        request.error("Parallelism", "is required: true or false")
    draft.set("parallelism", PARALLEL_GROUPS if parallel else 1, "Parallelism")
    params = request.obj("NodeParams")
    if params:
        draft.task_params("NodeParams", params)
    return draft.plans(())


def _window(request: Request, start: str, end: str) -> dict[str, Any]:
    """``HH:mm:ss`` start and end of a backfill as a range's ``window`` over the instances' scheduled
    times, for hourly tasks only: DataWorks runs a daily node's whole day whatever these say (a
    warning tells so). A business date's instances are scheduled the day after it (``bizdate``)."""
    begin, finish = request.text(start), request.text(end)
    if begin is None and finish is None:
        return {}
    if begin is None or finish is None:
        request.error(end if begin else start, f"give both {start} and {end}")
        return {}
    return {"window": {"start": begin, "end": finish, "sub_daily_only": True}}


def create_workflow_instances(data: Any, ids: IdMap) -> Plans:
    request = Request(data, "dataworks", ignored=ALIBABA_COMMON)
    # WorkflowId 1 (auto triggered tasks): the tasks may lie in several DAGs, one plan each
    draft = Draft(
        request, ids, several_dags=str(request.data.get("WorkflowId", "")).strip() == FIRST_WORKFLOW
    )
    request.choice("Action", {"CreateWorkflowInstances": None})
    project = request.text("ProjectId", required=True, max_length=64)
    draft.tag("ProjectId", project)
    _environment(request, "EnvType")
    request.choice("Type", {"SupplementData": None})
    if request.data.get("Type") in (None, ""):
        request.error("Type", "is required: SupplementData (a backfill)")
    workflow = request.text("WorkflowId", required=True, max_length=250)
    if workflow is not None and workflow != FIRST_WORKFLOW:
        draft.dag("WorkflowId", workflow)
    draft.set("title", request.text("Name", required=True, max_length=200), "Name")  # a label, reused
    _periods(request, draft)
    workflow_params = request.raw("WorkflowParameters")
    if workflow_params is not None and workflow == FIRST_WORKFLOW:
        # seed 004: they take effect when a specific workflow is named; auto triggered tasks have none
        request.params("WorkflowParameters", workflow_params)  # still checked
        draft.warnings.append(
            "WorkflowParameters apply to a named workflow only (seed: WorkflowId other than 1); with "
            "WorkflowId 1 they change nothing, as in DataWorks"
        )
    elif workflow_params is not None:
        draft.set("conf", request.params("WorkflowParameters", workflow_params), "WorkflowParameters")
    task_params = request.obj("TaskParameters")
    if task_params:
        draft.task_params("TaskParameters", task_params)
    auto_start = request.boolean("AutoStartEnabled", default=True)
    draft.set("paused", not auto_start, "AutoStartEnabled")
    _run_properties(request, draft, ids, project)
    draft.set("comment", request.text("Comment"), "Comment")
    for i, data in enumerate(request.objects("Tags", max_items=50)):
        tag = request.part(f"Tags.{i}", data, ("Key", "Value"))
        key, value = tag.text("Key", required=True, max_length=60), tag.text("Value", max_length=60)
        if key:
            draft.set("tags", [*draft.fields.get("tags", []), f"{key}:{value}" if value else key], "Tags")
    request.choice("TagCreationPolicy", {"Append": None, "Overwrite": None})
    return draft.plans(())


BIZ_DATE_FIELDS = ("StartBizDate", "EndBizDate", "StartTime", "EndTime")


def _periods(request: Request, draft: Draft) -> None:
    request.taken.add("Periods")
    periods = request.part("Periods", request.data.get("Periods"), ("BizDates", "StartTime", "EndTime"))
    dates = periods.objects("BizDates", required=True, max_items=7)
    shared = _window(periods, "StartTime", "EndTime")
    ranges = []
    for i, data in enumerate(dates):
        entry = periods.part(f"BizDates.{i}", data, BIZ_DATE_FIELDS)
        start, end = entry.date("StartBizDate", required=True), entry.date("EndBizDate", required=True)
        own = _window(entry, "StartTime", "EndTime")  # an entry's own times, else the period's
        if start is None or end is None:
            continue
        ranges.append({"start": start.isoformat(), "end": end.isoformat(), **(own or shared)})
        where = f"Periods.BizDates.{i}." if own else "Periods."
        draft.name_window(f"ranges.{len(ranges) - 1}", f"{where}StartTime", f"{where}EndTime")
    draft.set("ranges", ranges, "Periods.BizDates")
    draft.set("dates_by", "bizdate", "Periods.BizDates")


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


def _run_properties(request: Request, draft: Draft, ids: IdMap, project: str | None) -> None:
    request.taken.add("DefaultRunProperties")
    inner = request.part("DefaultRunProperties", request.data.get("DefaultRunProperties"), RUN_PROPERTIES)
    roots = draft.tasks("DefaultRunProperties.RootTaskIds", inner.ids("RootTaskIds"))
    include = draft.tasks("DefaultRunProperties.IncludeTaskIds", inner.ids("IncludeTaskIds"))
    exclude = draft.tasks("DefaultRunProperties.ExcludeTaskIds", inner.ids("ExcludeTaskIds"))
    if roots or include:
        where = "DefaultRunProperties."
        _select(
            draft,
            roots,
            include,
            exclude,
            (f"{where}RootTaskIds", f"{where}IncludeTaskIds", f"{where}ExcludeTaskIds"),
        )
    elif draft.dag_id is None:
        request.error(
            "DefaultRunProperties.RootTaskIds", "name the root tasks (or a WorkflowId other than 1)"
        )
    elif exclude:
        draft.set("tasks.exclude", exclude, "DefaultRunProperties.ExcludeTaskIds")
    inner.choice("Mode", {"ManualSelection": None})
    _projects(inner, draft, ids, project)
    inner.taken |= {"Analysis", "RunPolicy", "Alert"}
    _analysis(inner.part("Analysis", inner.data.get("Analysis"), ("Enabled", "Blocked")))
    policy = inner.data.get("RunPolicy")
    if policy not in (None, ""):
        _run_policy(inner.part("RunPolicy", policy, RUN_POLICY), draft)
    alert = inner.data.get("Alert")
    if alert not in (None, ""):
        _alert(inner.part("Alert", alert, ("Type", "NoticeType")), draft, ids)
    _run_settings(inner, draft, ids)


WEIGHT_RULES = {"Upstream": "upstream", "Downstream": "downstream", "Disable": "absolute"}


def _run_settings(props: Request, draft: Draft, ids: IdMap) -> None:
    """Parallelism, order, queue and priority of ``DefaultRunProperties``."""
    draft.integer("parallelism", "Parallelism", 1, 10, source=props)
    draft.choice("order", "Order", {"Asc": "asc", "Desc": "desc"}, source=props)
    resource = props.text("RuntimeResource", max_length=256)
    if resource is not None:
        queue = ids.queue(props, "RuntimeResource", resource, draft.warnings)
        draft.set("queue", queue, f"{props.prefix}RuntimeResource")
    draft.integer("priority_weight", "Priority", 1, 11, source=props)
    draft.choice("weight_rule", "PriorityWeightStrategy", WEIGHT_RULES, source=props)


def _analysis(analysis: Request) -> None:
    """Analysis checks the backfill before it runs; a plan is always checked before anything is
    created, and a plan that fails the check is never created, so Enabled and Blocked, true or false,
    change nothing (false asks for less than a plan does anyway)."""
    for key in ("Enabled", "Blocked"):
        analysis.boolean(key)


def _projects(props: Request, draft: Draft, ids: IdMap, own: str | None) -> None:
    """``IncludeProjectIds``/``ExcludeProjectIds`` in ManualSelection, the only mode DataWorks has for
    an API backfill: only the selected tasks run, so projects add nothing; they bound the selection.
    The selected tasks' DAG must lie in an included project and in no excluded one. The request's own
    project (``ProjectId``) holds its selected tasks without an id map entry (the seed's own example
    includes it); another project the id map does not list holds none of them."""

    def dags_of(field: str, i: int, project: str) -> list[str]:
        if project == own and project not in ids.projects:
            return list(draft.dag_ids)
        if project not in ids.projects and is_number(project):
            return []
        return ids.project(props, f"{field}.{i}", project)

    for field, inside in (("IncludeProjectIds", True), ("ExcludeProjectIds", False)):
        projects = props.ids(field)
        dags = {dag for i, p in enumerate(projects) for dag in dags_of(field, i, p)}
        for dag_id in draft.dag_ids if projects else ():
            if (dag_id in dags) != inside:
                props.error(
                    field,
                    f"the selected tasks' DAG '{dag_id}' is {'not ' if inside else ''}in project(s) "
                    f"{', '.join(projects)}: in ManualSelection only the selected tasks run, so name "
                    f"{'their' if inside else 'another'} project or drop {field}",
                )


RUN_POLICY = ("Type", "StartTime", "EndTime", "Immediately")


def _run_policy(policy: Request, draft: Draft) -> None:
    where = "DefaultRunProperties.RunPolicy"
    policy.choice("Type", {"Daily": None})
    if policy.data.get("Type") in (None, ""):
        policy.error("Type", "is required with a RunPolicy: Daily (lots start daily in a window)")
    start, end = policy.text("StartTime"), policy.text("EndTime")
    if start and end:
        draft.set("run_window", {"start": start, "end": end}, f"{where}.StartTime")
        draft.origin["run_window.end"] = f"{where}.EndTime"
    elif start or end:
        policy.error("EndTime" if start else "StartTime", "give both StartTime and EndTime")
    immediately = policy.boolean("Immediately")
    if immediately is not None:
        draft.set("run_future", "now" if immediately else "wait", f"{where}.Immediately")


ALERT_ON = {"success": ["success"], "failure": ["failure"], "successfailure": ["success", "failure"]}


def _alert(alert: Request, draft: Draft, ids: IdMap) -> None:
    given = alert.text("Type") or ""
    kind = given.replace("_", "").lower()
    notice = alert.text("NoticeType", max_length=100)
    if kind in ("", "none"):
        return
    on = ALERT_ON.get(kind) or ALERT_ON.get(kind + "s")  # the seed's own example writes "Succes"
    if on is None:
        alert.error("Type", f"{given!r} is not one of Success, Failure, SuccessFailure, None")
        return
    if not notice:
        alert.error("NoticeType", "is required with an alert Type")
        return
    target = ids.target(alert, "NoticeType", notice)
    if target is not None:
        draft.set("notify", {"on": on, "targets": [target]}, "DefaultRunProperties.Alert")
