"""Cluster policies (``airflow.policy`` entry point): dry-run, ``task_params`` and routing of lot runs.

A lot run's conf carries the plan's marker (``marker.py``): its dry-run tasks, ``task_params`` and
routing, signed by the service for that very run. Where tasks run, ``task_policy``:

- makes a dry-run task a no-op: it ends in success without its code running and with no outlets
  (it publishes no asset event for data it never wrote), even when it was cleared from the UI or
  retried, and for every map index of a mapped task;
- adds a task's own ``task_params`` to its ``params`` before its templates render and before it
  runs;
- does either only when the signature is the service's for this run. A marker written by hand into
  any other run (a manual run, a native backfill, a run re-made by hand under a lot run's id)
  neutralises and injects nothing: every task of that run fails saying why;
- removes the reserved key from every task's params.

Where Airflow makes or resets task instances (a mapped task's expansion, a clear from the UI),
``task_instance_mutation_hook`` puts the plan's pool, queue and priority back on them, which Airflow
would otherwise take from the task. Outside lot runs both do nothing.
"""

from __future__ import annotations

from typing import Any

from airflow.policies import hookimpl

from airflow_backfill_provider import signing
from airflow_backfill_provider.compat import MUTATION_HOOK_GETS_DAG_RUN
from airflow_backfill_provider.exceptions import BackfillError
from airflow_backfill_provider.marker import LotMarker, MarkerError, apply_routing, marker_of
from airflow_backfill_provider.reserved import PLAN_CONF_KEY, RENDERED_XCOM_KEY, RUN_ID_PREFIX

_MARK = "_backfill_plan_policy"


def _marker(context: Any) -> LotMarker | None:
    """The run's plan marker, only when the service signed it for exactly this run; a marker that is
    not (or cannot be checked here) fails the task saying why."""
    dag_run = context.get("dag_run")
    try:
        return marker_of(dag_run)
    except MarkerError as exc:
        raise BackfillError(str(exc)) from None
    except signing.SigningUnavailable as exc:
        raise BackfillError(
            f"run {getattr(dag_run, 'run_id', None)} is a backfill plan's run, but this worker cannot "
            f"check it: {exc}"
        ) from None


def _dry_run(task: Any, marker: LotMarker | None) -> bool:
    return marker is not None and task.task_id in marker.dry_run


def _no_op(*args: Any, **kwargs: Any) -> None:
    return None


def _neutralise(task: Any, plan: str) -> None:
    """The task's code never runs: execute and every hook around it do nothing, and it has no outlets,
    so its success reports no asset event."""
    task.log.info("dry run: skipped by backfill plan %s, nothing of this task runs", plan)
    object.__setattr__(task, "outlets", [])
    for name in ("execute", "pre_execute", "post_execute"):
        object.__setattr__(task, name, _no_op)
    for name in ("_pre_execute_hook", "_post_execute_hook"):
        if hasattr(task, name):
            object.__setattr__(task, name, None)
    for name in ("on_execute_callback", "on_success_callback"):
        if hasattr(task, name):
            object.__setattr__(task, name, [])


def _apply_params(task: Any, context: Any, marker: LotMarker | None) -> None:
    params = context.get("params")
    if params is None:
        return
    if PLAN_CONF_KEY in params:
        del params[PLAN_CONF_KEY]
    overrides = marker.task_params.get(task.task_id) if marker is not None else None
    if isinstance(overrides, dict):
        for key, value in overrides.items():
            params[key] = value


def _render(task: Any, original: Any, context: Any, jinja_env: Any = None) -> Any:
    marker = _marker(context)
    if _dry_run(task, marker):
        _neutralise(task, marker.plan if marker else "")
        return None
    _apply_params(task, context, marker)
    _asset_events(task, marker)
    rendered = original(context, jinja_env)
    _keep_rendered(task, context)
    return rendered


def _asset_events(task: Any, marker: LotMarker | None) -> None:
    """``asset_events: suppress``: the task runs without outlets, so it reports no asset event and
    Airflow schedules no consumer on it (the service records the changes: ``record_asset_changes``)."""
    if marker is not None and marker.suppress_asset_events and getattr(task, "outlets", None):
        object.__setattr__(task, "outlets", [])


def _keep_rendered(task: Any, context: Any) -> None:
    """A lot run's task keeps what it rendered in an XCom (``RENDERED_XCOM_KEY``), serialized and
    masked as Airflow's own record is: Airflow keeps that record only for the DAG's 30 newest runs,
    and deletes a backfilled old date's as it writes it. Never fails the task."""
    run_id = str(getattr(context.get("dag_run"), "run_id", "") or "")
    if not run_id.startswith(RUN_ID_PREFIX) or not getattr(task, "template_fields", ()):
        return
    try:
        from airflow.sdk.execution_time.task_runner import _serialize_rendered_fields

        context["ti"].xcom_push(key=RENDERED_XCOM_KEY, value=_serialize_rendered_fields(task))
    except Exception:
        task.log.warning("backfill plan: the rendered fields of this lot could not be kept", exc_info=True)


def _wrap_unmapped(unmapped: Any) -> Any:
    """A mapped task's runtime copy: guard its rendering (which happens right after unmapping)."""
    original = unmapped._do_render_template_fields

    def render(parent: Any, template_fields: Any, context: Any, jinja_env: Any, seen_oids: Any) -> Any:
        marker = _marker(context)
        if _dry_run(unmapped, marker):
            _neutralise(unmapped, marker.plan if marker else "")
            return None
        _apply_params(unmapped, context, marker)
        _asset_events(unmapped, marker)
        rendered = original(parent, template_fields, context, jinja_env, seen_oids)
        if parent is unmapped:
            _keep_rendered(unmapped, context)
        return rendered

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


def _route(task_instance: Any, dag_run: Any) -> None:
    """The plan's pool, queue and priority on a task instance of its lot run that Airflow makes or
    resets from the task (a mapped task's expansion, a clear): only from a marker the service signed
    for this run."""
    conf = getattr(dag_run, "conf", None)
    if not isinstance(conf, dict) or PLAN_CONF_KEY not in conf:
        return
    try:
        marker = marker_of(dag_run)
    except (MarkerError, signing.SigningUnavailable):
        return  # an unsigned marker routes nothing (and the run's tasks fail on the worker)
    task = getattr(task_instance, "task", None)
    if marker is None or not marker.routes or task is None:
        return
    dag = task.get_dag() if hasattr(task, "get_dag") else getattr(task, "dag", None)
    apply_routing(task_instance, task, dag, marker)


if MUTATION_HOOK_GETS_DAG_RUN:

    @hookimpl
    def task_instance_mutation_hook(task_instance: Any, dag_run: Any) -> None:
        _route(task_instance, dag_run)

else:  # Airflow 3.2: the hook gets the task instance only

    @hookimpl
    def task_instance_mutation_hook(task_instance: Any) -> None:  # type: ignore[misc]
        _route(task_instance, getattr(task_instance, "dag_run", None))
