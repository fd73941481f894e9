"""Plan notifications: the deployment's targets, and the message the provider writes from a plan's fields.

A plan's ``notify`` names **targets** and the states to tell them about, nothing else. A target is
the deployment's (``[backfill] notification_targets``): a notifier class, its fixed arguments
(recipients, channel, connection) and the arguments that receive the message. The message is
written by the provider from the plan's own fields (name, title, state, counts, failed lots, the
page's URL), or by a template the deployment owns (``[backfill] notification_template`` and
``notification_subject``). So:

1. **Nothing a plan sends is a template.** Its title and the lots' reasons are inserted as data:
   ``{{ 1 }}`` in a title is the text ``{{ 1 }}``. The deployment's template is rendered by a
   sandboxed Jinja that sees only ``plan``.
2. **Nothing a plan sends is a recipient, a channel or a class.** Those are the target's. Only
   classes a target names are imported, each checked to be a ``BaseNotifier``.
3. **The work happens on a worker, once.** When a plan ends, the service records the plan's fields
   in one signed notify run (``service/notify.py``); its task writes the message and calls each
   target (``engine/controller.py``), with Airflow's templating of the message arguments off.
"""

from __future__ import annotations

import functools
import html
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_backfill_provider import settings

KNOWN_ARGUMENTS: dict[str, tuple[str | None, str | None, Literal["text", "html"]]] = {
    "airflow.providers.smtp.notifications.smtp.SmtpNotifier": ("html_content", "subject", "html"),
    "airflow.providers.slack.notifications.slack.SlackNotifier": ("text", None, "text"),
    "airflow.providers.slack.notifications.slack_webhook.SlackWebhookNotifier": ("text", None, "text"),
}
"""Airflow's own notifiers: (message argument, subject argument, format) when a target names none"""

FAILED_LOTS_SHOWN = 20
"""failed lots a notification lists (with the count of the others)"""
MAX_RENDERED = 100_000
"""characters of a message, whoever wrote its template"""
FACTS = (
    "name", "title", "dag_id", "state", "counts", "total_lots", "failed_lots", "url", "created_by",
    "started_at", "ended_at",
)  # fmt: skip
"""what a notification knows of its plan (``plan.<name>`` in the deployment's templates)"""


@dataclass(frozen=True)
class Target:
    """A deployment's notification target: a notifier class, its fixed arguments, and where the
    message goes."""

    name: str
    path: str
    fixed: Mapping[str, Any] = field(default_factory=dict)
    message: str | None = None
    subject: str | None = None
    format: Literal["text", "html"] = "text"


class TargetError(ValueError):
    """A target the deployment defines cannot be used as it is: the message says what to fix."""


def targets() -> dict[str, Target]:
    """The deployment's targets (``[backfill] notification_targets``)."""
    found = {}
    for name, entry in settings.notification_targets().items():
        path = str(entry["notifier"])
        message, subject, kind = KNOWN_ARGUMENTS.get(path, ("message", None, "text"))
        found[name] = Target(
            name=name,
            path=path,
            fixed=dict(entry.get("kwargs") or {}),
            message=entry.get("message", message),
            subject=entry.get("subject", subject),
            format="html" if entry.get("format", kind) == "html" else "text",
        )
    return found


def target_errors(names: list[str]) -> list[tuple[int, str]]:
    """(position, why) for every name that is not a usable target of this deployment."""
    try:
        defined = targets()
    except ValueError as exc:
        return [(i, f"{exc}: ask your Airflow administrator to fix it") for i in range(len(names))]
    errors = []
    for i, name in enumerate(names):
        target = defined.get(name)
        if target is None:
            known = ", ".join(sorted(defined)) or "none is defined"
            errors.append(
                (i, f"no notification target '{name}' ([backfill] notification_targets names {known})")
            )
            continue
        try:
            notifier_class(target.path)
        except TargetError as exc:
            errors.append((i, f"target '{name}' cannot be used: {exc}. Ask your Airflow administrator"))
    return errors


@functools.lru_cache(maxsize=64)
def notifier_class(path: str) -> type:
    """The class a target names (the deployment's list, never a plan's); TargetError says why not."""
    from airflow.sdk import BaseNotifier

    module, _, name = path.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise TargetError(f"'{path}' cannot be imported here: {exc}") from None
    if not (isinstance(found, type) and issubclass(found, BaseNotifier)):
        raise TargetError(f"'{path}' is not a subclass of Airflow's BaseNotifier")
    return found


def subject(facts: Mapping[str, Any]) -> str:
    """The provider's one-line summary of a plan that ended."""
    counts = facts.get("counts") or {}
    title = f" ({facts['title']})" if facts.get("title") else ""
    done = counts.get("success", 0) + counts.get("skipped", 0)
    return (
        f"Backfill plan {facts.get('name')}{title} ended {facts.get('state')}: {done} of "
        f"{facts.get('total_lots', 0)} lots done, {counts.get('failed', 0)} failed"
    )


def body(facts: Mapping[str, Any]) -> str:
    """The provider's text of a plan that ended: its fields, its failed lots, its page."""
    counts = facts.get("counts") or {}
    lines = [subject(facts), ""]
    lines.append(f"DAG: {facts.get('dag_id')}")
    lines.append("Lots: " + ", ".join(f"{state} {n}" for state, n in counts.items() if n))
    failed = facts.get("failed_lots") or []
    if failed:
        lines += ["", "Failed lots:"]
        lines += [f"- lot {lot['index']} ({lot['label']}): {lot.get('reason') or 'failed'}" for lot in failed]
        more = counts.get("failed", 0) - len(failed)
        if more > 0:
            lines.append(f"- and {more} more")
    if facts.get("created_by"):
        lines.append(f"Created by: {facts['created_by']}")
    lines += ["", f"The plan: {facts.get('url')}"]
    return "\n".join(lines)


def _environment(autoescape: bool) -> Any:
    """A Jinja for the deployment's templates: sandboxed, so even a template that loops over the
    plan's data reaches no attribute or method of Python objects."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(autoescape=autoescape, undefined=StrictUndefined)


def message(facts: Mapping[str, Any], fmt: Literal["text", "html"]) -> tuple[str, str]:
    """(subject, body) for a plan that ended: the deployment's templates when it has them, else the
    provider's text; the plan's fields go in as data, escaped for an HTML body."""
    plan = {key: facts.get(key) for key in FACTS}
    custom_subject, custom_body = settings.notification_subject(), settings.notification_template()
    line = (
        _environment(False).from_string(custom_subject).render(plan=plan) if custom_subject else subject(plan)
    )
    if custom_body:
        text = _environment(fmt == "html").from_string(custom_body).render(plan=plan)
    else:
        text = body(plan)
        if fmt == "html":
            text = f"<pre>{html.escape(text)}</pre>"
    return " ".join(line.split())[:1000], text[:MAX_RENDERED]


def build(target: Target, facts: Mapping[str, Any]) -> Any:
    """The notifier a worker calls for ``target``: the deployment's arguments, the message in the
    target's message (and subject) argument, and Airflow's templating of those two off (they hold
    the plan's data, which is never a template)."""
    cls = notifier_class(target.path)
    line, text = message(facts, target.format)
    written = {name: value for name, value in ((target.message, text), (target.subject, line)) if name}
    instance = cls(**{**target.fixed, **written})
    instance.template_fields = tuple(f for f in instance.template_fields if f not in written)
    return instance
