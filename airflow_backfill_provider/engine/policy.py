"""Cluster policy (``airflow.policy`` entry point): a plan's ``task_params`` reach their task only.

Airflow gives every task of a run the same params (DAG params, task params, then the run's conf).
A lot run's conf carries the plan's ``task_params`` under a reserved key; this policy wraps each
task's template rendering so that, in a lot run, the task's own overrides are added to
``context["params"]`` before its templates render and before ``execute`` runs — other tasks see
nothing, and the reserved key is removed from every task's params. Outside lot runs it does nothing.
Mapped tasks are not wrapped (Airflow rebuilds them when it renders them).
"""

from __future__ import annotations

from typing import Any

from airflow.policies import hookimpl

from airflow_backfill_provider.service.runs import PLAN_CONF_KEY

_MARK = "_backfill_plan_params"


def _render_with_plan_params(context: Any, jinja_env: Any = None) -> Any:
    task = context["task"]  # the copy the worker runs, not the parsed original
    dag_run = context.get("dag_run")
    marker = (getattr(dag_run, "conf", None) or {}).get(PLAN_CONF_KEY)
    params = context.get("params")
    if marker and params is not None:
        if PLAN_CONF_KEY in params:
            del params[PLAN_CONF_KEY]
        for key, value in (marker.get("task_params") or {}).get(task.task_id, {}).items():
            params[key] = value
    return type(task).render_template_fields(task, context, jinja_env)


@hookimpl
def task_policy(task: Any) -> None:
    if getattr(task, "is_mapped", False) or getattr(task, _MARK, False):
        return
    task.render_template_fields = _render_with_plan_params
    object.__setattr__(task, _MARK, True)
