"""Plans being put together from a cloud scheduler's request: fields, where each came from, their DAGs.

A request names one DAG, or (WeData's ``TaskIds``, DataWorks' tasks under ``WorkflowId: 1``) tasks of
several: then it becomes one plan over those DAGs (``dags.add``), each with its own task selection and
``task_params`` and every other field shared, whose lots of one date wait for that date's lots of
their parent DAGs in the plan.

Plan errors are reported under the request's own field names (``RedefineParallelNum: … (plan field
parallelism)``), together with the translator's own errors, in one ``PlanValidationError``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from airflow_backfill_provider.exceptions import FieldError, PlanValidationError
from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.plan.translate.idmap import IdMap
from airflow_backfill_provider.plan.translate.request import Request


class TaskRefs(list[str]):
    """Task ids a request field names, with the DAG of each: ``by_dag`` maps a DAG to its task ids, or
    to None when the field names that DAG whole."""

    def __init__(self, by_dag: dict[str, list[str] | None]) -> None:
        super().__init__(t for tasks in by_dag.values() for t in tasks or ())
        self.by_dag = by_dag


class Plans(list[BackfillPlan]):
    """The plans of one request (a plan per DAG it names), with the translator's ``warnings``: what runs
    otherwise than the request's letter says."""

    def __init__(self, plans: Iterable[BackfillPlan], warnings: Iterable[str] = ()) -> None:
        super().__init__(plans)
        self.warnings = list(warnings)


class Draft:
    def __init__(self, request: Request, ids: IdMap, *, several_dags: bool = False) -> None:
        self.request = request
        self.ids = ids
        self.several_dags = several_dags
        self.fields: dict[str, Any] = {}
        self.origin: dict[str, str] = {}
        self.dag_ids: list[str] = []
        self._dag_origin = ""
        self.task_fields: dict[str, TaskRefs] = {}
        """plan fields whose value differs by DAG (``tasks.roots`` ...)"""
        self.params_by_dag: dict[str, dict[str, Any]] = {}
        self.warnings: list[str] = []
        """what runs otherwise than the request's letter says, and why (shown in the answer)"""

    @property
    def dag_id(self) -> str | None:
        return self.dag_ids[0] if self.dag_ids else None

    def set(self, field: str, value: Any, origin: str) -> None:
        """Plan field ``field`` (dotted for nested ones) gets ``value``, which came from ``origin``; task
        ids (``TaskRefs``) go to the plan of their DAG."""
        if value is None:
            return
        self.origin[field] = origin
        if isinstance(value, TaskRefs):
            self.task_fields[field] = value
            return
        _put(self.fields, field, value)

    # -- a request field read into a plan field, each name written once ---------------------------

    def choice(
        self, field: str, name: str, words: dict[str, Any], *, source: Request | None = None, **kw: Any
    ) -> None:
        """Plan field ``field`` from the word in request field ``name`` (of ``source``, a part)."""
        src = source or self.request
        self.set(field, src.choice(name, words, **kw), f"{src.prefix}{name}")

    def integer(self, field: str, name: str, lo: int, hi: int, *, source: Request | None = None) -> None:
        src = source or self.request
        self.set(field, src.integer(name, lo, hi), f"{src.prefix}{name}")

    def text(self, field: str, name: str, *, source: Request | None = None, **kw: Any) -> None:
        src = source or self.request
        self.set(field, src.text(name, **kw), f"{src.prefix}{name}")

    def name_window(self, rng: str, start: str, end: str) -> None:
        """Errors in the window of range ``rng`` (``ranges.0``) name the request's own time fields."""
        self.origin[f"{rng}.window"] = start
        self.origin[f"{rng}.window.start"] = start
        self.origin[f"{rng}.window.end"] = end

    def tag(self, name: str, value: Any) -> None:
        """Context a plan has no field for (tenant, region, project) is kept as a tag, not dropped."""
        if value is not None:
            self.fields.setdefault("tags", []).append(f"{self.request.system}:{name}={value}"[:100])
            self.origin["tags"] = name

    def use_dag(self, dag_id: str, origin: str) -> bool:
        if dag_id in self.dag_ids:
            return True
        if not self.dag_ids or self.several_dags:
            self.dag_ids.append(dag_id)
            self._dag_origin = self._dag_origin or origin
            self.origin.setdefault("dag_id", origin)
            return True
        self.request.error(
            origin,
            f"names DAG '{dag_id}', but {self._dag_origin} names DAG '{self.dag_ids[0]}': this request "
            "backfills one DAG (its DagId, WorkflowId or root); send one request per DAG",
        )
        return False

    def dag(self, field: str, given: str | None) -> None:
        if given is not None:
            dag_id = self.ids.dag(self.request, field, given)
            if dag_id is not None:
                self.use_dag(dag_id, field)

    def tasks(self, field: str, given: Iterable[str], *, whole_dag: bool = False) -> TaskRefs:
        """The task ids ``given`` names, by DAG; a DAG an entry names whole (``whole_dag``) maps to None."""
        by_dag: dict[str, list[str] | None] = {}
        for i, one in enumerate(given):
            loc = f"{field}.{i}"
            target = self.ids.task(self.request, loc, one)
            if target is None or not self.use_dag(target[0], loc):
                continue
            dag_id, task_id = target
            if task_id is None:
                if whole_dag:
                    by_dag[dag_id] = None
                else:
                    self.request.error(loc, f"{one!r} names a DAG, not a task: write '<dag_id>.<task_id>'")
                continue
            listed = by_dag.setdefault(dag_id, [])
            if listed is not None:  # a DAG named whole stays whole
                listed.append(task_id)
        return TaskRefs(by_dag)

    def task_params(self, field: str, given: dict[str, Any]) -> None:
        """``{node id: parameters}`` as each DAG's plan's ``task_params``."""
        for node, value in given.items():
            loc = f"{field}.{node}"
            tasks = self.tasks(loc, [node])
            params = self.request.params(loc, value)
            for dag_id, task_ids in tasks.by_dag.items():
                if task_ids and params is not None:
                    self.params_by_dag.setdefault(dag_id, {})[task_ids[0]] = params
                    self.origin["task_params"] = field

    def plans(self, known: Iterable[str]) -> Plans:
        """A plan per DAG the request names, or every error of the request and of the plans at once.

        A cloud scheduler's backfill regenerates what it is given: every system re-runs dates that ran
        before, so a translated plan redoes them (``reprocess: all``) unless the request says otherwise.
        """
        self.request.leftovers(known)
        self.fields.setdefault("reprocess", "all")
        errors = list(self.request.errors)
        if not self.dag_ids and not errors:
            errors.append(FieldError("", "the request names no DAG (workflow) or task to backfill"))
        plans: list[BackfillPlan] = []
        dag_ids = self._dags_that_run()
        for fields in [self._one_plan(dag_ids)] if dag_ids else []:
            try:
                plans.append(BackfillPlan.from_dict(fields))
            except PlanValidationError as exc:
                # beside the request's own errors, only plan errors of a field the request gave are news
                errors += [
                    t
                    for error in exc.fields
                    if (t := self._theirs(error, bare=not errors)) and t not in errors
                ]
        if errors or not plans:
            raise PlanValidationError(
                errors, f"the {self.request.system} request cannot be run as a backfill plan"
            )
        return Plans(plans, self.warnings)

    def plan(self, known: Iterable[str]) -> BackfillPlan:
        """The plan of a request that names one DAG."""
        return self.plans(known)[0]

    def _dags_that_run(self) -> list[str]:
        """The DAGs named; with several, a DAG only excluded from (dry-run) has nothing to run."""
        if len(self.dag_ids) < 2:
            return self.dag_ids
        selecting = [f for f in self.task_fields if f != "tasks.exclude"]
        return [
            d
            for d in self.dag_ids
            if not selecting or any(d in self.task_fields[f].by_dag for f in selecting)
        ]

    def _one_plan(self, dag_ids: list[str]) -> dict[str, Any]:
        """One plan over every DAG the request names: the first is the plan's DAG, the others are added
        (``dags.add``) with their own task selection and params, and each date's lots wait for that
        date's lots of their parent DAGs in the plan (``parent_check`` at least ``scope``), as the
        systems run a backfill's instances in dependency order."""
        fields = self._fields_of(dag_ids[0])
        others = dag_ids[1:]
        if not others:
            return fields
        each = {dag_id: self._fields_of(dag_id) for dag_id in others}
        fields["dags"] = {
            **fields.get("dags", {}),
            "add": others,
            "tasks": {d: f["tasks"] for d, f in each.items() if f.get("tasks")},
            "task_params": {d: f["task_params"] for d, f in each.items() if f.get("task_params")},
        }
        if fields.get("parent_check", "none") == "none":
            fields["parent_check"] = "scope"
        return fields

    def _fields_of(self, dag_id: str) -> dict[str, Any]:
        fields = copy.deepcopy(self.fields)
        fields["dag_id"] = dag_id
        for field, refs in self.task_fields.items():
            tasks = refs.by_dag.get(dag_id, [] if field == "tasks.roots" else None)
            if tasks is not None:  # a DAG with tasks chosen but no root of its own runs only those
                _put(fields, field, list(tasks))
        if self.params_by_dag.get(dag_id):
            fields["task_params"] = self.params_by_dag[dag_id]
        return fields

    def _theirs(self, error: FieldError, *, bare: bool) -> FieldError | None:
        """A plan error under the request field it came from; one of no such field only if ``bare``."""
        parts = error.loc.split(".")
        for n in range(len(parts), 0, -1):
            origin = self.origin.get(".".join(parts[:n]))
            if origin is not None:
                return FieldError(origin, f"{error.msg} (plan field {error.loc})")
        return error if bare else None


def _put(target: dict[str, Any], field: str, value: Any) -> None:
    *parents, last = field.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value
