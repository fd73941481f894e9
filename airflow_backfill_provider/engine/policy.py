"""Cluster policy (``airflow.policy`` entry point), applied where tasks run: dry-run and ``task_params``.

A lot run's conf carries, under a reserved key, the plan's dry-run tasks and ``task_params`` with
the service's signature over (DAG, run, content). On the worker, this policy:

- makes a dry-run task a no-op: it ends in success without its code running, even when it was
  cleared from the UI or retried, and for every map index of a mapped task;
- adds a task's own ``task_params`` to its ``params`` before its templates render and before it
  runs;
- does either only when the signature is the service's (Ed25519, checked with the public key). A
  conf written by hand into any other run (a manual run, a native backfill) neutralises and injects
  nothing: every task of that run fails saying why, instead of skipping its checks or running with
  params its DAG's validation never saw. ``dry_run`` is a list of exact task ids;
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
    """The run's plan marker, only when the service signed it for exactly this run.

    A run without the reserved key is not a plan's run: None. A run with it whose signature does not
    verify (written by hand, copied from another run, or checked on a worker without the public key)
    fails the task saying why: nothing is neutralised or injected on an unsigned word.
    """
    dag_run = context.get("dag_run")
    conf = getattr(dag_run, "conf", None) or {}
    if not isinstance(conf, dict) or PLAN_CONF_KEY not in conf:
        return None
    marker = conf[PLAN_CONF_KEY]
    dag_id, run_id = getattr(dag_run, "dag_id", None), getattr(dag_run, "run_id", None)
    if not isinstance(marker, dict):
        raise BackfillError(f"run {run_id} carries a '{PLAN_CONF_KEY}' conf that is not a backfill plan's")
    content = {k: marker.get(k) for k in ("plan", "dry_run", "task_params")}
    try:
        valid = signing.verify(str(dag_id), str(run_id), content, marker.get("signature"))
    except signing.SigningUnavailable as exc:
        raise BackfillError(
            f"run {run_id} is a backfill plan's run, but this worker cannot check it: {exc}"
        ) from None
    if not valid:
        raise BackfillError(
            f"run {run_id} carries a '{PLAN_CONF_KEY}' conf (dry-run tasks, task_params) that the backfill "
            "service did not sign for this run: refusing to run any task of it. Only plans put it in runs; "
            "if this is a plan's run, give this worker the service's public key ([backfill] signing_public_keys)"
        )
    dry_run = content["dry_run"]
    if not isinstance(dry_run, list) or not all(isinstance(t, str) for t in dry_run):
        raise BackfillError(f"run {run_id}: the plan's dry_run is not a list of task ids")
    return content


def _dry_run(task: Any, marker: dict[str, Any] | None) -> bool:
    return marker is not None and task.task_id in marker["dry_run"]


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
    task_params = (marker or {}).get("task_params")
    overrides = task_params.get(task.task_id) if isinstance(task_params, dict) else None
    if isinstance(overrides, dict):
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
