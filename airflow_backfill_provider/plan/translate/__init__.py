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
from airflow_backfill_provider.plan.translate.idmap import IdMap

Translator = Callable[[Any, IdMap], BackfillPlan]

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


def translate(
    system: str, request: Any, id_map: IdMap | None = None, action: str | None = None
) -> BackfillPlan:
    return translator(system, action)(request, (id_map or IdMap()).for_system(system))


def as_new_backfill(plan: BackfillPlan) -> BackfillPlan:
    """Every call of a cloud scheduler's backfill is a new backfill (DMS, DataWorks, WeData and
    Aloudata each answer a new id): the same request sent twice rebuilds twice. So a translated plan
    gets a name of its own, where ``POST /plans`` names a plan by its content (an operator's retry
    returns the same plan)."""
    generated = plan.default_name()
    return plan.model_copy(update={"name": f"{generated[: generated.rfind('__')]}__{secrets.token_hex(6)}"})


__all__ = ["ACTIONS", "SYSTEMS", "IdMap", "as_new_backfill", "translate", "translator"]
