"""Plan notifications as a sandbox: what a plan author names and writes reaches only the plan's own fields.

A plan's ``notify`` names notifiers, each either

- a **target** the deployment defines by name in ``[backfill] notification_targets`` (a notifier
  class, the arguments the deployment fixes — recipients, connection — and ``plan_arguments``, the
  arguments plan authors may set), or
- an allowed notifier **class** (declared by an installed provider, or listed in
  ``[backfill] allowed_notifiers``), whose plan arguments are those the class lists in
  ``backfill_plan_arguments``, or the few this module lists for Airflow's own notifiers.

Nothing else is imported. The sandbox's walls:

1. **Arguments by allow-list.** A plan sets only its notifier's plan arguments: message text and
   recipients, never a file, a template path or a connection, which stay the deployment's.
2. **Values are data.** JSON values only; every string is a template rendered by a sandboxed Jinja
   (no attribute of Python objects, no loader, no filters that reach outside) that sees only
   ``plan``: its name, state, DAG, lot counts and page URL. ``{{ var.value.x }}`` or
   ``{{ conn.y.password }}`` is an error at create, naming the field.
3. **Rendered once, by the service.** The service renders the arguments when the plan ends and signs
   them into the notify run; the worker passes them to the notifier with Airflow's templating of
   those fields switched off, so Airflow's task context (``var``, ``conn``, ``ti``, macros) never
   renders what a plan author wrote, and no value is read as a template file.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_backfill_provider import settings

PLAN_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "airflow.providers.smtp.notifications.smtp.SmtpNotifier": ("to", "cc", "bcc", "subject", "html_content"),
    "airflow.providers.slack.notifications.slack.SlackNotifier": ("text", "channel"),
    "airflow.providers.slack.notifications.slack_webhook.SlackWebhookNotifier": ("text",),
}
"""Airflow's own notifiers: the arguments that are a message or its recipients"""

PLAN_VARIABLES = ("name", "state", "dag_id", "counts", "url")
"""what a notification template sees, as ``plan.<name>``"""

MAX_TEMPLATE = 10_000
MAX_RENDERED = 100_000


@dataclass(frozen=True)
class Notifier:
    """A notifier a plan may name: its class path, the arguments fixed by the deployment, and those
    the plan may set."""

    name: str
    path: str
    fixed: Mapping[str, Any] = field(default_factory=dict)
    plan_arguments: tuple[str, ...] = ()


def allowed_notifiers() -> frozenset[str]:
    """Import paths of the notifier classes plans may use."""
    from airflow.providers_manager import ProvidersManager

    return frozenset(str(path) for path in ProvidersManager().notification) | settings.allowed_notifiers()


def targets() -> dict[str, Notifier]:
    """The deployment's named targets (``[backfill] notification_targets``)."""
    found = {}
    for name, entry in settings.notification_targets().items():
        found[name] = Notifier(
            name=name,
            path=str(entry["notifier"]),
            fixed=dict(entry.get("kwargs") or {}),
            plan_arguments=tuple(str(a) for a in entry.get("plan_arguments") or ()),
        )
    return found


def notifier_class(path: str) -> type:
    """The notifier class at ``path``, which must be allowed; raises ValueError saying why not."""
    allowed = allowed_notifiers()
    if path not in allowed:
        raise ValueError(
            f"'{path}' is not an allowed notifier: name a target of [backfill] notification_targets "
            f"({', '.join(sorted(targets())) or 'none is defined'}), a notifier an installed provider "
            f"declares ({', '.join(sorted(allowed)) or 'none is installed'}), or ask your Airflow "
            "administrator to add it to [backfill] allowed_notifiers"
        )
    from airflow.sdk import BaseNotifier

    module, _, name = path.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"'{path}' cannot be imported here: {exc}") from None
    if not (isinstance(found, type) and issubclass(found, BaseNotifier)):
        raise ValueError(f"'{path}' is not a subclass of Airflow's BaseNotifier")
    return found


def resolve(name: str) -> tuple[Notifier, type]:
    """The notifier a plan names (a target or an allowed class) and its class; ValueError if none."""
    target = targets().get(name)
    if target is not None:
        return target, notifier_class(target.path)
    cls = notifier_class(name)
    declared = getattr(cls, "backfill_plan_arguments", None)
    arguments = tuple(declared) if declared is not None else PLAN_ARGUMENTS.get(name, ())
    return Notifier(name=name, path=name, plan_arguments=arguments), cls


SAFE_FILTERS = (
    "default", "upper", "lower", "title", "capitalize", "trim", "length", "string", "int", "float",
    "round", "join", "first", "last", "sort", "dictsort", "items", "truncate", "e", "escape", "tojson",
)  # fmt: skip
"""filters a template may use: none reads outside the plan or makes a value much larger"""


def _environment() -> Any:
    """A Jinja that reaches nothing but the data it is given: no method or attribute of any object
    (``plan.name`` is the dict's item), no loader, no globals, a few filters, no ``**`` and no
    repetition by ``*``."""
    from jinja2 import StrictUndefined
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class PlanTemplates(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**"})

        def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
            return False

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right))
            if operator == "*" and numbers and abs(left) < 1e9 and abs(right) < 1e9:
                return left * right
            raise SecurityError(f"'{operator}' is not allowed in notification templates")

    env = PlanTemplates(autoescape=False, undefined=StrictUndefined)
    env.globals.clear()
    env.filters = {name: env.filters[name] for name in SAFE_FILTERS if name in env.filters}
    env.tests = {name: env.tests[name] for name in ("defined", "undefined", "none", "number", "string")}
    return env


def _strings(value: Any, where: str) -> list[tuple[str, str]]:
    """Every string inside a JSON value, with its path."""
    if isinstance(value, str):
        return [(where, value)]
    if isinstance(value, list):
        return [s for i, v in enumerate(value) for s in _strings(v, f"{where}.{i}")]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(v, f"{where}.{k}")]
    return []


def _render_value(value: Any, plan: Mapping[str, Any], env: Any) -> Any:
    if isinstance(value, str):  # ``backfill_plan``: the name templates saw before 0.3.0
        text = env.from_string(value).render(plan=plan, backfill_plan=plan)
        return text[:MAX_RENDERED]
    if isinstance(value, list):
        return [_render_value(v, plan, env) for v in value]
    if isinstance(value, dict):
        return {k: _render_value(v, plan, env) for k, v in value.items()}
    return value


SAMPLE_PLAN = {
    "name": "plan",
    "state": "success",
    "dag_id": "dag",
    "counts": {"success": 1, "failed": 0},
    "url": "http://airflow/plugin/backfill-plans?plan=plan",
}


def kwargs_errors(name: str, kwargs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field under ``kwargs``, message) for every argument the plan may not set or cannot render."""
    try:
        notifier, _ = resolve(name)
    except ValueError as exc:
        return [("", str(exc))]
    errors = []
    env = _environment()
    for key, value in kwargs.items():
        if key not in notifier.plan_arguments:
            allowed = ", ".join(notifier.plan_arguments) or "none"
            errors.append(
                (
                    key,
                    f"a plan may not set '{key}' of notifier '{name}': plans set only its message arguments "
                    f"({allowed}); files, templates and connections are the deployment's "
                    "([backfill] notification_targets)",
                )
            )
            continue
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            errors.append((key, "must be JSON"))
            continue
        for where, text in _strings(value, key):
            if len(text) > MAX_TEMPLATE:
                errors.append((where, f"longer than {MAX_TEMPLATE} characters"))
                continue
            try:
                _only_expressions(env, text)
                env.from_string(text).render(plan=SAMPLE_PLAN, backfill_plan=SAMPLE_PLAN)
            except Exception as exc:  # any template error is the author's to fix
                errors.append(
                    (
                        where,
                        f"is not a notification template: {type(exc).__name__}: {str(exc)[:200]}. "
                        f"Templates see only plan.{', plan.'.join(PLAN_VARIABLES)}",
                    )
                )
    return errors


def _only_expressions(env: Any, text: str) -> None:
    """``{{ ... }}`` and ``{% if %}`` only: no loop, macro, include or block, so rendering costs what
    the text's length says."""
    from jinja2 import nodes
    from jinja2.exceptions import SecurityError

    for node in env.parse(text).find_all(nodes.Stmt):
        if not isinstance(node, (nodes.Output, nodes.If)):
            raise SecurityError(
                f"'{type(node).__name__}' statements are not allowed: use {{{{ }}}} and {{% if %}}"
            )


def render_kwargs(kwargs: Mapping[str, Any], plan: Mapping[str, Any]) -> dict[str, Any]:
    """The plan's arguments rendered with the plan's own fields (the service does this at plan end)."""
    env = _environment()
    rendered = {}
    for key, value in kwargs.items():
        try:
            rendered[key] = _render_value(value, plan, env)
        except Exception as exc:  # checked at create; a value that still fails is sent as written
            rendered[key] = f"(template error: {type(exc).__name__})" if isinstance(value, str) else value
    return rendered


def build(name: str, plan_kwargs: Mapping[str, Any]) -> Any:
    """The notifier instance a worker calls: the deployment's arguments, the plan's rendered ones, and
    Airflow's templating switched off for the plan's (they are text, not templates, by now)."""
    notifier, cls = resolve(name)
    given = {k: v for k, v in plan_kwargs.items() if k in notifier.plan_arguments}
    instance = cls(**{**notifier.fixed, **given})
    instance.template_fields = tuple(f for f in instance.template_fields if f not in given)
    return instance
