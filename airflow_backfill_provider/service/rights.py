"""What a caller may do, asked of whoever knows: Airflow's auth manager (the REST API) or nobody (the
CLI, which has the database and so every right already).

The service asks through ``Access``; its answers to a caller who may not do something name only what
the caller sent, never a DAG or plan the caller has no rights on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from sqlalchemy.orm import Session

from airflow_backfill_provider.exceptions import ForbiddenError
from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.plan.planner import PlannedBackfill
from airflow_backfill_provider.service.dags import dag_graph

Method = Literal["GET", "POST", "PUT"]
"""read runs (GET), create runs (POST), change runs: clear, fail, pause a backfill (PUT)"""
VERB = {"GET": "read runs of", "POST": "create runs of", "PUT": "change runs of"}


class Access(Protocol):
    def may(self, dag_ids: Sequence[str] | None, method: Method) -> bool:
        """May the caller do ``method`` on runs of every DAG given (None: of every DAG there is)?"""
        ...

    def may_edit_pools(self) -> bool:
        """May the caller change pools (and so route work by pool and queue where it likes)?"""
        ...


class Everything:
    """The CLI's caller: whoever has the metadata database has every right."""

    def may(self, dag_ids: Sequence[str] | None, method: Method) -> bool:
        return True

    def may_edit_pools(self) -> bool:
        return True


EVERYTHING = Everything()


def forbidden(message: str) -> ForbiddenError:
    return ForbiddenError(f"Forbidden: {message}")


def parents_outside(spec: BackfillPlan, planned: PlannedBackfill, session: Session) -> dict[str, list[str]]:
    """With ``parent_check: all``, each DAG's parent DAGs outside the plan (their runs gate its lots)."""
    if spec.parent_check != "all":
        return {}
    _, upstream = dag_graph(session)
    return {dag_id: sorted(set(upstream.get(dag_id, ())) - set(planned.dags)) for dag_id in planned.dags}


def require_dag_rights(spec: BackfillPlan, access: Access) -> None:
    """403 unless the caller may create runs of the DAG it sent (asked before that DAG is read)."""
    if not access.may([spec.dag_id], "POST"):
        raise forbidden(f"you may not {VERB['POST']} DAG {spec.dag_id}")


def require_plan_rights(
    spec: BackfillPlan, planned: PlannedBackfill, access: Access, session: Session
) -> dict[str, list[str]]:
    """403 unless the caller may create runs of every DAG the plan touches (its own, and the DAGs
    ``downstream_dags`` reaches) and, with ``parent_check: all``, read runs of every parent DAG
    outside the plan, whose runs its lots' gates read. The answer names only the DAG the caller sent.
    Returns the parents outside the plan."""
    require_dag_rights(spec, access)
    if not access.may(list(planned.dags), "POST"):
        raise forbidden(
            f"with downstream_dags, the plan on {spec.dag_id} reaches DAGs whose runs you may not create: "
            "restrict them with dags.include / dags.exclude, or drop downstream_dags"
        )
    outside = parents_outside(spec, planned, session)
    parents = sorted({d for ids in outside.values() for d in ids})
    if parents and not access.may(parents, "GET"):
        raise forbidden(
            f"parent_check: all reads the runs of the DAGs upstream of {spec.dag_id}, and you may not read "
            "them all: use parent_check: scope (or none), or ask for read rights on those DAGs"
        )
    return outside
