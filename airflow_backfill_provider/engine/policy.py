"""Cluster policy (``airflow.policy`` entry point), applied where tasks run: dry-run and ``task_params``.

A lot run's conf carries, under a reserved key, the plan's dry-run tasks and ``task_params`` with
the service's signature over (DAG, run, content). On the worker, this policy:

- makes a dry-run task a no-op: it ends in success without its code running, even when it was
  cleared from the UI or retried, and for every map index of a mapped task;
- adds a task's own ``task_params`` to its ``params`` before its templates render and before it
  runs, only when the signature is the service's. A conf written by hand into any other run (a
  manual run, a native backfill) injects nothing: the task fails saying why, instead of running with
  params its DAG's validation never saw;
- removes the reserved key from every task's params.

Outside lot runs it does nothing.
"""

from __future__ import annotations

from typing import Any

from airflow.policies import hookimpl

from airflow_backfill_provider import signing
from airflow_backfill_provider.exceptions import BackfillError
from airflow_backfill_provider.reserved import PLAN_CONF_KEY

_MARK = "_backfill_plan_policy"


def _marker(context: Any) -> dict[str, Any] | None:
    dag_run = context.get("dag_run")
    marker = (getattr(dag_run, "conf", None) or {}).get(PLAN_CONF_KEY)
    return marker if isinstance(marker, dict) else None


def _dry_run(task: Any, marker: dict[str, Any] | None) -> bool:
    return bool(marker) and task.task_id in (marker.get("dry_run") or ())  # type: ignore[union-attr]


def _no_op(*args: Any, **kwargs: Any) -> None:
    return None


def _neutralise(task: Any, plan: str) -> None:
    """The task's code never runs: execute and every hook around it do nothing."""
    task.log.info("dry run: skipped by backfill plan %s, nothing of this task runs", plan)
    for name in ("execute", "pre_execute", "post_execute"):
        object.__setattr__(task, name, _no_op)
    for name in ("_pre_execute_hook", "_post_execute_hook"):
        if hasattr(task, name):
            object.__setattr__(task, name, None)
    for name in ("on_execute_callback", "on_success_callback"):
        if hasattr(task, name):
            object.__setattr__(task, name, [])


def _apply_params(task: Any, context: Any, marker: dict[str, Any] | None) -> None:
    params = context.get("params")
    if params is None:
        return
    if PLAN_CONF_KEY in params:
        del params[PLAN_CONF_KEY]
    if not marker:
        return
    overrides = (marker.get("task_params") or {}).get(task.task_id)
    if not overrides:
        return
    dag_run = context["dag_run"]
    content = {k: marker.get(k) for k in ("plan", "dry_run", "task_params")}
    if not signing.verify(dag_run.dag_id, dag_run.run_id, content, marker.get("signature")):
        raise BackfillError(
            f"run {dag_run.run_id} carries task_params for '{task.task_id}' that the backfill service did not "
            "sign: refusing to run with them. Plans set task_params; if this is a plan's run, set the same "
            "[backfill] signing_key (or [api_auth] jwt_secret) on the api-server and this worker"
        )
    for key, value in overrides.items():
        params[key] = value


def _render(task: Any, original: Any, context: Any, jinja_env: Any = None) -> Any:
    marker = _marker(context)
    if _dry_run(task, marker):
        _neutralise(task, str((marker or {}).get("plan")))
        return None
    _apply_params(task, context, marker)
    return original(context, jinja_env)


def _wrap_unmapped(unmapped: Any) -> Any:
    """A mapped task's runtime copy: guard its rendering (which happens right after unmapping)."""
    original = unmapped._do_render_template_fields

    def render(parent: Any, template_fields: Any, context: Any, jinja_env: Any, seen_oids: Any) -> Any:
        marker = _marker(context)
        if _dry_run(unmapped, marker):
            _neutralise(unmapped, str((marker or {}).get("plan")))
            return None
        _apply_params(unmapped, context, marker)
        return original(parent, template_fields, context, jinja_env, seen_oids)

    object.__setattr__(unmapped, "_do_render_template_fields", render)
    return unmapped


@hookimpl
def task_policy(task: Any) -> None:
    if getattr(task, _MARK, False):
        return
    if getattr(task, "is_mapped", False):
        unmap = task.unmap

        def guarded_unmap(*args: Any, **kwargs: Any) -> Any:
            return _wrap_unmapped(unmap(*args, **kwargs))

        object.__setattr__(task, "unmap", guarded_unmap)
    else:

        def render(context: Any, jinja_env: Any = None) -> Any:
            current = context.get("task") or task  # the copy the worker runs, not the parsed original
            return _render(current, type(current).render_template_fields.__get__(current), context, jinja_env)

        object.__setattr__(task, "render_template_fields", render)
    object.__setattr__(task, _MARK, True)
