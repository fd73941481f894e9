"""Cloud schedulers' backfill requests as backfill plans: pure code beside the model.

``translate(system, request, id_map)`` reads one request of DMS, DataWorks (new and old API), WeData
or Aloudata in that system's own field names and returns the BackfillPlan it asks for, or one
``PlanValidationError`` naming every field that cannot be honoured and why.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from airflow_backfill_provider.exceptions import FieldError, PlanValidationError
from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.plan.translate import aloudata, dataworks, dms, wedata
from airflow_backfill_provider.plan.translate.draft import Plans
from airflow_backfill_provider.plan.translate.idmap import IdMap

Translator = Callable[[Any, IdMap], Plans]
"""a request and the id map in, a plan per DAG the request names out"""

ACTIONS: dict[str, dict[str, Translator]] = {
    "dms": {"BackFill": dms.back_fill},
    "dataworks": {"CreateWorkflowInstances": dataworks.create_workflow_instances},
    "dataworks-legacy": {"RunCycleDagNodes": dataworks.run_cycle_dag_nodes},
    "wedata": {"CreateDataBackfillPlan": wedata.create_data_backfill_plan},
    "aloudata": {"accelerate/task/create": aloudata.task_create},
}
"""system -> its action (Aloudata: its path) that creates a backfill -> translator"""
SYSTEMS = tuple(ACTIONS)


def translator(system: str, action: str | None = None) -> Translator:
    """The translator of ``system``'s backfill action (its only one when ``action`` is None)."""
    actions = ACTIONS.get(system)
    if actions is None:
        raise PlanValidationError(
            [
                FieldError(
                    "system", f"{system!r} is not a system we translate: use one of {', '.join(SYSTEMS)}"
                )
            ]
        )
    if action is None:
        return next(iter(actions.values()))
    if action not in actions:
        raise PlanValidationError(
            [FieldError("Action", f"{action!r}: the {system} backfill action is {', '.join(actions)}")]
        )
    return actions[action]


def translate_all(system: str, request: Any, id_map: IdMap | None = None, action: str | None = None) -> Plans:
    """The request as plans: one per DAG it names (most requests name one), with the warnings of what
    runs otherwise than its letter says."""
    return translator(system, action)(request, (id_map or IdMap()).for_system(system))


def translate(
    system: str, request: Any, id_map: IdMap | None = None, action: str | None = None
) -> BackfillPlan:
    """The plan of a request that names one DAG."""
    plans = translate_all(system, request, id_map, action)
    if len(plans) > 1:
        raise PlanValidationError(
            [FieldError("", f"the request names {len(plans)} DAGs: read it with translate_all")]
        )
    return plans[0]


def as_new_backfill(plans: Plans) -> Plans:
    """Every call of a cloud scheduler's backfill is a new backfill (DMS, DataWorks, WeData and
    Aloudata each answer a new id): the same request sent twice rebuilds twice. So translated plans
    get names of their own, where ``POST /plans`` names a plan by its content (an operator's retry
    returns the same plan). A request over several DAGs is one backfill: its first plan's name, and
    that name with ``.2``, ``.3``... for the others (``group_names``)."""
    generated = plans[0].default_name()
    first = f"{generated[: generated.rfind('__')]}__{secrets.token_hex(6)}"
    named = [
        p.model_copy(update={"name": name})
        for p, name in zip(plans, group_names(first, len(plans)), strict=True)
    ]
    return Plans(named, plans.warnings)


def group_names(first: str, count: int) -> list[str]:
    """The names of the plans of one backfill over ``count`` DAGs."""
    return [first, *(f"{first}.{n}" for n in range(2, count + 1))]


__all__ = [
    "ACTIONS",
    "SYSTEMS",
    "IdMap",
    "Plans",
    "as_new_backfill",
    "group_names",
    "translate",
    "translate_all",
    "translator",
]
