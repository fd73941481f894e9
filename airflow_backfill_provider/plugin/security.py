"""Who may do what: Airflow's own auth manager decides, and rights are checked before anything is revealed.

Reading a plan needs the right to read runs of every DAG it touches; creating or previewing one, the
right to create runs of every DAG it touches; steering one (pause, resume, cancel, retry), the right
to change them (PUT), as Airflow's own backfill pause/cancel and run clear ask. A plan the caller may
not read and a plan that does not exist get the same 403, unless the caller may act on every DAG
(then 404).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import Depends, Header, HTTPException, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from airflow_backfill_provider.exceptions import FieldError, PlanValidationError, UnknownObjectError
from airflow_backfill_provider.plan.model import is_number
from airflow_backfill_provider.reserved import DRIVER_TOKEN_HEADER
from airflow_backfill_provider.service import queries
from airflow_backfill_provider.service.rights import VERB, Method
from airflow_backfill_provider.service.tables import PlanRow


def _auth_manager() -> Any:
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager()


def _may(
    user: Any, dag_ids: Sequence[str] | None, method: Method, session: Session, entity: str = "RUN"
) -> bool:
    """May ``user`` read (GET) or create (POST) runs (or ``entity``: ``TASK_INSTANCE``, ``TASK_LOGS``)
    of every DAG given (None: of every DAG there is)?"""
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
    from airflow.models.dag import DagModel

    access = DagAccessEntity[entity]
    if dag_ids is None:
        return bool(
            _auth_manager().is_authorized_dag(
                method=method, access_entity=access, details=DagDetails(id=None), user=user
            )
        )
    ids = sorted(set(dag_ids))
    teams = DagModel.get_dag_id_to_team_name_mapping(ids, session=session)
    return bool(
        _auth_manager().batch_is_authorized_dag(
            [
                {
                    "method": method,
                    "access_entity": access,
                    "details": DagDetails(id=d, team_name=teams.get(d)),
                }
                for d in ids
            ],
            user=user,
        )
    )


@dataclass(frozen=True)
class CallerAccess:
    """The REST caller's rights, as Airflow's auth manager answers them (``service.rights.Access``)."""

    user: Any
    session: Session

    def may(self, dag_ids: Sequence[str] | None, method: Method) -> bool:
        return _may(self.user, dag_ids, method, self.session)

    def may_edit_pools(self) -> bool:
        from airflow.api_fastapi.auth.managers.models.resource_details import PoolDetails

        return bool(_auth_manager().is_authorized_pool(method="PUT", details=PoolDetails(), user=self.user))


def readable_dag_ids(user: Any, method: Method, session: Session) -> set[str] | None:
    """DAG ids the user may read (GET), create (POST) or change (PUT) runs of; None when it may act on
    every DAG."""
    if _may(user, None, method, session):
        return None
    return set(_auth_manager().get_authorized_dag_ids(user=user, method=method, session=session))


def may_read(user: Any, dag_ids: Sequence[str], entity: str, session: Session) -> bool:
    """May ``user`` read ``entity`` (``TASK_INSTANCE``, ``TASK_LOGS``) of every DAG given, as Airflow's
    own API asks before it shows task instances or logs?"""
    return _may(user, dag_ids, "GET", session, entity)


def may_read_plan(user: Any, row: PlanRow, session: Session) -> bool:
    return _may(user, queries.plan_dag_ids(row, session), "GET", session)


def detail_rights(user: Any, row: PlanRow, session: Session) -> dict[str, bool]:
    """What of a lot's detail the user may see: its task instances and their logs."""
    dag_ids = queries.plan_dag_ids(row, session)
    return {
        "task_instances": may_read(user, dag_ids, "TASK_INSTANCE", session),
        "logs": may_read(user, dag_ids, "TASK_LOGS", session),
    }


def require_some_dag(user: Any, method: Method, session: Session) -> None:
    """403 at once for a caller who may not do ``method`` on runs of any DAG at all."""
    if readable_dag_ids(user, method, session) == set():
        raise HTTPException(403, f"Forbidden: you may not {VERB[method]} any DAG")


def plan_for(user: Any, ref: str, method: Method, session: Session) -> PlanRow:
    """The plan, if the user may read (GET) or steer (PUT) it.

    A plan that does not exist and one the user may not see get the same 403; only a user who may act
    on every DAG learns that a plan does not exist (404).
    """
    row = queries.find_plan(ref, session)
    if row is not None and _may(user, queries.plan_dag_ids(row, session), method, session):
        return row
    if row is None and _may(user, None, method, session):
        queries.get_plan(ref, session)  # raises the 404
    raise HTTPException(
        403, f"Forbidden: you may not {VERB[method]} backfill plan '{ref}', or it does not exist"
    )


def _readable_plan(user: GetUserDep, session: SessionDep, plan: str) -> PlanRow:
    return plan_for(user, plan, "GET", session)


def _steerable_plan(user: GetUserDep, session: SessionDep, plan: str) -> PlanRow:
    return plan_for(user, plan, "PUT", session)


ReadablePlan = Annotated[PlanRow, Depends(_readable_plan)]
"""the ``{plan}`` of the path, if the caller may read runs of every DAG it touches (else 403)"""
SteerablePlan = Annotated[PlanRow, Depends(_steerable_plan)]
"""the ``{plan}`` of the path, if the caller may change runs of every DAG it touches (else 403)"""


# -- one dependency per kind of access: every route names its guard in its signature ---------------


async def _creator(user: GetUserDep, session: SessionDep) -> CallerAccess:
    await run_in_threadpool(require_some_dag, user, "POST", session)  # before the body is read
    return CallerAccess(user, session)


Creator = Annotated[CallerAccess, Depends(_creator)]
"""a caller who may create runs of some DAG (403 at once otherwise): the service asks it of the rest
(``service.rights``) once the plan is known"""


@dataclass(frozen=True)
class Readable:
    """The DAGs a caller may read runs of (``dag_ids`` None: every DAG)."""

    user: Any
    dag_ids: frozenset[str] | None


def _reader(user: GetUserDep, session: SessionDep) -> Readable:
    require_some_dag(user, "GET", session)
    found = readable_dag_ids(user, "GET", session)
    return Readable(user, None if found is None else frozenset(found))


Reader = Annotated[Readable, Depends(_reader)]
"""a caller who may read runs of some DAG (403 at once otherwise), with the DAGs it may read"""


def _driver_token(
    session: SessionDep, token: Annotated[str | None, Header(alias=DRIVER_TOKEN_HEADER)] = None
) -> str:
    from airflow_backfill_provider.service import driver

    driver.refuse_stranger(token, session)
    return str(token)


DriverToken = Annotated[str, Depends(_driver_token)]
"""the current plan driver's token (403 on a plain read, before any lock, for any other)"""


# -- the cloud schedulers' calls (``routes/compat.py``): their actions and instance ids --------------

COMPAT_READS = {"dataworks": frozenset({"GetCreateWorkflowInstancesResult"})}
"""the compat actions that read, by system: answered for GET and POST alike, with the right to read"""
LOTS_PER_PLAN = 10**8
"""Aloudata instance ids are ``plan id * LOTS_PER_PLAN + lot index``: one number, as Aloudata's are"""


def compat_action(request: Request) -> str | None:
    """The action of a compat call: from its path, else ``X-TC-Action`` (Tencent) or ``Action`` (Alibaba)."""
    return (
        request.path_params.get("action")
        or request.headers.get("X-TC-Action")
        or request.query_params.get("Action")
    )


async def _compat_caller(request: Request, user: GetUserDep, session: SessionDep) -> CallerAccess:
    system = request.path_params.get("system", "aloudata")
    method: Method = "GET" if compat_action(request) in COMPAT_READS.get(system, ()) else "POST"
    await run_in_threadpool(require_some_dag, user, method, session)  # before the body is read
    return CallerAccess(user, session)


CompatCaller = Annotated[CallerAccess, Depends(_compat_caller)]
"""a compat caller who may create runs of some DAG, or read them for an action that reads (403 at once
otherwise); the plan's own DAGs are checked by the service, as for ``POST /plans``"""


def _aloudata_plan(
    user: GetUserDep, session: SessionDep, dagName: Annotated[str, Query(max_length=250)]
) -> PlanRow:
    return plan_for(user, dagName, "GET", session)


AloudataPlan = Annotated[PlanRow, Depends(_aloudata_plan)]
"""the plan Aloudata's ``dagName`` names, if the caller may read it (else 403)"""


@dataclass(frozen=True)
class Instance:
    """A lot named by an Aloudata instance id, with what of it the caller may see."""

    plan: PlanRow
    index: int
    rights: dict[str, bool]


def _aloudata_instance(
    user: GetUserDep, session: SessionDep, id: Annotated[str, Query(max_length=40)]
) -> Instance:
    if not is_number(id):
        raise PlanValidationError([FieldError("id", f"{id!r} is not an instance id from the instance list")])
    plan_id, index = divmod(int(id), LOTS_PER_PLAN)
    row = plan_for(user, str(plan_id), "GET", session)
    if index >= row.total_lots:
        raise UnknownObjectError(f"no instance {id}", [FieldError("id", "give an id from the instance list")])
    return Instance(row, index, detail_rights(user, row, session))


AloudataInstance = Annotated[Instance, Depends(_aloudata_instance)]
"""the lot an Aloudata instance ``id`` names, if the caller may read its plan (else 403)"""

GUARDS = (
    _readable_plan,
    _steerable_plan,
    _creator,
    _reader,
    _driver_token,
    _compat_caller,
    _aloudata_plan,
    _aloudata_instance,
)
"""the dependencies that decide who may call a route (``tests/unit/test_routes_guarded.py``)"""
