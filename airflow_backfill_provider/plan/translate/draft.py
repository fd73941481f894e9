"""A plan being put together from a cloud scheduler's request: fields, where each came from, one DAG.

Plan errors are reported under the request's own field names (``RedefineParallelNum: … (plan field
parallelism)``), together with the translator's own errors, in one ``PlanValidationError``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from airflow_backfill_provider.exceptions import FieldError, PlanValidationError
from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.plan.translate.idmap import IdMap
from airflow_backfill_provider.plan.translate.request import Request


class Draft:
    def __init__(self, request: Request, ids: IdMap) -> None:
        self.request = request
        self.ids = ids
        self.fields: dict[str, Any] = {}
        self.origin: dict[str, str] = {}
        self.dag_id: str | None = None
        self._dag_origin = ""

    def set(self, field: str, value: Any, origin: str) -> None:
        """Plan field ``field`` (dotted for nested ones) gets ``value``, which came from ``origin``."""
        if value is None:
            return
        target = self.fields
        *parents, last = field.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
        self.origin[field] = origin

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
        if self.dag_id is None:
            self.dag_id, self._dag_origin = dag_id, origin
            self.set("dag_id", dag_id, origin)
            return True
        if dag_id != self.dag_id:
            self.request.error(
                origin,
                f"names DAG '{dag_id}', but {self._dag_origin} names DAG '{self.dag_id}': one plan backfills "
                "one DAG (and with downstream_dags the DAGs after it); send one request per DAG",
            )
            return False
        return True

    def dag(self, field: str, given: str | None) -> None:
        if given is not None:
            dag_id = self.ids.dag(self.request, field, given)
            if dag_id is not None:
                self.use_dag(dag_id, field)

    def tasks(self, field: str, given: Iterable[str], *, whole_dag: bool = False) -> list[str] | None:
        """Task ids of the plan's DAG that ``given`` names; None when an entry names the whole DAG."""
        found: list[str] = []
        whole = False
        for i, one in enumerate(given):
            loc = f"{field}.{i}"
            target = self.ids.task(self.request, loc, one)
            if target is None or not self.use_dag(target[0], loc):
                continue
            if target[1] is None:
                if whole_dag:
                    whole = True
                else:
                    self.request.error(loc, f"{one!r} names a DAG, not a task: write '<dag_id>.<task_id>'")
                continue
            found.append(target[1])
        return None if whole else found

    def task_params(self, field: str, given: dict[str, Any]) -> None:
        """``{node id: parameters}`` as the plan's ``task_params``."""
        out: dict[str, dict[str, Any]] = {}
        for node, value in given.items():
            loc = f"{field}.{node}"
            tasks = self.tasks(loc, [node])
            params = self.request.params(loc, value)
            if tasks and params is not None:
                out[tasks[0]] = params
        if out:
            self.set("task_params", out, field)

    def plan(self, known: Iterable[str]) -> BackfillPlan:
        """The plan, or every error of the request and of the plan at once.

        A cloud scheduler's backfill regenerates what it is given: every system re-runs dates that ran
        before, so a translated plan redoes them (``reprocess: all``) unless the request says otherwise.
        """
        self.request.leftovers(known)
        self.fields.setdefault("reprocess", "all")
        errors = list(self.request.errors)
        if "dag_id" not in self.fields and not errors:
            errors.append(FieldError("", "the request names no DAG (workflow) or task to backfill"))
        try:
            plan = BackfillPlan.from_dict(self.fields)
        except PlanValidationError as exc:
            # beside the request's own errors, only plan errors of a field the request gave are news
            errors += [theirs for error in exc.fields if (theirs := self._theirs(error, bare=not errors))]
            plan = None
        if errors or plan is None:
            raise PlanValidationError(
                errors, f"the {self.request.system} request cannot be run as a backfill plan"
            )
        return plan

    def _theirs(self, error: FieldError, *, bare: bool) -> FieldError | None:
        """A plan error under the request field it came from; one of no such field only if ``bare``."""
        parts = error.loc.split(".")
        for n in range(len(parts), 0, -1):
            origin = self.origin.get(".".join(parts[:n]))
            if origin is not None:
                return FieldError(origin, f"{error.msg} (plan field {error.loc})")
        return error if bare else None
