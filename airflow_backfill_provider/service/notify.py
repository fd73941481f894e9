"""``notify``: which notifiers a plan may name, and the run that calls them when the plan ends.

Notifiers are checked at preview and create (``notifiers.py``: nothing outside the deployment's
allow-list is imported). When a plan ends, the service creates one run of the controller DAG whose ``notify`` task calls the
notifiers on a worker (where Airflow runs its callbacks), with a conf the service signs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from airflow_backfill_provider import signing
from airflow_backfill_provider.exceptions import FieldError
from airflow_backfill_provider.notifiers import kwargs_errors, render_kwargs
from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.reserved import CONTROLLER_DAG_ID
from airflow_backfill_provider.service.dags import serialized_dag
from airflow_backfill_provider.service.lots import now


def notify_errors(spec: BackfillPlan) -> list[FieldError]:
    if spec.notify is None:
        return []
    errors = []
    for i, entry in enumerate(spec.notify.notifiers):
        for where, message in kwargs_errors(entry.notifier, entry.kwargs):
            loc = f"notify.notifiers.{i}.kwargs.{where}" if where else f"notify.notifiers.{i}.notifier"
            errors.append(FieldError(loc, message))
    return errors


def page_url(plan_name: str) -> str:
    """The plan's page in Airflow's UI."""
    from urllib.parse import quote

    from airflow.configuration import conf

    base = str(conf.get("api", "base_url", fallback="") or "").rstrip("/")
    return f"{base}/plugin/backfill-plans?plan={quote(plan_name)}"


def start_notify_run(
    plan_name: str, spec: dict[str, Any], state: str, counts: dict[str, int], session: Session
) -> str | None:
    """One run of the controller DAG whose ``notify`` task calls the plan's notifiers (if ``on`` says so)."""
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    notify = spec.get("notify") or {}
    outcome = {"success": "success", "failed": "failure"}.get(state)
    if not notify or outcome not in notify.get("on", ()):
        return None
    controller = serialized_dag(CONTROLLER_DAG_ID, session)
    if controller is None:
        return None
    ended = now()
    run_id = f"notify__{plan_name}__{ended:%Y%m%dT%H%M%S%f}"
    plan = {
        "name": plan_name,
        "state": state,
        "dag_id": spec.get("dag_id"),
        "counts": counts,
        "url": page_url(plan_name),
    }
    content = {
        "plan": plan_name,
        "state": state,
        "counts": counts,
        # rendered here, with the plan's own fields only: the worker renders nothing a plan wrote
        "notifiers": [
            {"notifier": n["notifier"], "kwargs": render_kwargs(n.get("kwargs") or {}, plan)}
            for n in notify.get("notifiers", [])
        ],
    }
    controller.create_dagrun(
        run_id=run_id,
        logical_date=None,
        data_interval=None,
        run_after=ended,
        conf={"notify": content, "signature": signing.sign(CONTROLLER_DAG_ID, run_id, content)},
        run_type=DagRunType.MANUAL,
        triggered_by=DagRunTriggeredByType.REST_API,
        triggering_user_name=None,
        state=DagRunState.QUEUED,
        note=f"notifies that backfill plan {plan_name} ended {state}",
        session=session,
    )
    return run_id
