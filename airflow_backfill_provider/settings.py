"""The ``[backfill]`` configuration section: limits and allow-lists set by the deployment.

Every option is declared with its default and description under ``config`` in get_provider_info,
so ``airflow config list`` shows them; read them here and nowhere else.
"""

from __future__ import annotations

import json
from typing import Any

SECTION = "backfill"

OPTIONS: dict[str, dict[str, Any]] = {
    "max_lots_per_plan": {
        "description": "Most lots one plan may have (all its DAGs together). Larger plans are refused "
        "at preview and create with a message naming the limit. (Before 0.3.0: max_lots, still read "
        "when this is not set.)",
        "type": "integer",
        "default": "100000",
        "example": "20000",
        "version_added": "0.3.0",
    },
    "max_active_plans_per_user": {
        "description": "Most plans one user may have queued, running or paused at once; another is "
        "refused (429) until one ends. 0: no limit.",
        "type": "integer",
        "default": "0",
        "example": "20",
        "version_added": "0.3.0",
    },
    "max_active_lots": {
        "description": "Most lots all queued, running and paused plans may have together; a plan that "
        "would go beyond is refused (429) until others end. 0: no limit.",
        "type": "integer",
        "default": "0",
        "example": "1000000",
        "version_added": "0.3.0",
    },
    "max_preview_lots": {
        "description": "Most lots a preview lists (it always gives the total).",
        "type": "integer",
        "default": "1000",
        "example": "5000",
        "version_added": "0.2.0",
    },
    "notification_targets": {
        "description": "Notification targets plans may name in `notify.targets`, as JSON: "
        '{"<name>": {"notifier": "<class path>", "kwargs": {...}, "message": "<argument>", '
        '"subject": "<argument>", "format": "text|html"}}. The notifier class (a subclass of Airflow\'s '
        "BaseNotifier) and its kwargs (recipients, channel, connection) are fixed here; the provider "
        "writes the message from the plan's own fields into the `message` argument (and a one-line "
        "summary into `subject`), with Airflow's templating of those two switched off. Airflow's SMTP "
        "and Slack notifiers need no `message`/`subject`. Plans name targets only: nothing a plan sends "
        "is a template, a recipient or a class. Set it on the api-server and every worker.",
        "type": "string",
        "default": "",
        "example": '{"data-team": {"notifier": "airflow.providers.smtp.notifications.smtp.SmtpNotifier", '
        '"kwargs": {"to": "data@example.com"}}}',
        "version_added": "0.3.0",
    },
    "notification_template": {
        "description": "The body of every plan notification, as a Jinja template the deployment owns "
        "(rendered on the worker that sends it, in a sandbox, with the plan's fields as data: "
        "plan.name, title, dag_id, state, counts, total_lots, failed_lots (index, label, reason; the "
        "first 20), url, created_by, started_at, ended_at). Empty: the provider's own text.",
        "type": "string",
        "default": "",
        "example": "{{ plan.name }} ended {{ plan.state }}: {{ plan.counts.failed }} failed. {{ plan.url }}",
        "version_added": "0.3.0",
    },
    "notification_subject": {
        "description": "The one-line summary (a mail's subject) of every plan notification, as a Jinja "
        "template the deployment owns, with the same fields as notification_template. Empty: the "
        "provider's own line.",
        "type": "string",
        "default": "",
        "example": "[backfill] {{ plan.name }} {{ plan.state }}",
        "version_added": "0.3.0",
    },
    "allowed_pools": {
        "description": "Comma-separated pools a plan may put its task instances in (`pool`), besides "
        "the pools its DAGs' tasks use already. Callers who may edit pools may name any pool.",
        "type": "string",
        "default": "",
        "example": "backfills,low_priority",
        "version_added": "0.3.0",
    },
    "allowed_queues": {
        "description": "Comma-separated executor queues a plan may send its task instances to "
        "(`queue`), besides the queues its DAGs' tasks use already. Callers who may edit pools may "
        "name any queue.",
        "type": "string",
        "default": "",
        "example": "backfill",
        "version_added": "0.3.0",
    },
    "unmapped_resource_groups": {
        "description": "A cloud request's resource group (DataWorks RuntimeResource, WeData resource "
        "groups) that the id map's `queues` does not map: `refuse` it by field (no worker serves it by "
        "that name), or `ignore` it, with a warning, so the lots run on the DAGs' own queues. Overrides "
        "the id map's `unmapped_queues`.",
        "type": "string",
        "default": "",
        "example": "ignore",
        "version_added": "0.3.0",
    },
    "signing_private_key": {
        "description": "Ed25519 private key the service signs lot runs' dry-run tasks and task_params "
        "and notify runs with: the base64 of its 32 raw bytes (or a PEM). Set it on the api-server and "
        "the hosts that run `airflow backfill-plans`, never on workers. The api-server refuses to start "
        "the plugin without it. `python -m airflow_backfill_provider.signing` prints a new key pair.",
        "type": "string",
        "default": "",
        "sensitive": True,
        "example": None,
        "version_added": "0.3.0",
    },
    "signing_public_keys": {
        "description": "Comma-separated Ed25519 public keys (base64 of 32 raw bytes) workers verify "
        "plan signatures with. Set it on every worker. List the old and the new key while rotating. "
        "Default on a host with signing_private_key: its own public key.",
        "type": "string",
        "default": "",
        "example": "kQ3sW0u1bqzL3N7n8E2hY0G8i1u2VtJ3iQ5s0mFf1mE=",
        "version_added": "0.3.0",
    },
    "api_url": {
        "description": "Base URL the plan driver (in the triggerer) calls the api-server at. Default: "
        "[core] execution_api_server_url without /execution, else [api] base_url.",
        "type": "string",
        "default": "",
        "example": "http://airflow-apiserver:8080",
        "version_added": "0.2.0",
    },
    "driver_poll_interval": {
        "description": "Seconds between two passes of the plan driver over every active plan.",
        "type": "float",
        "default": "2.0",
        "example": "5",
        "version_added": "0.2.0",
    },
    "lookahead": {
        "description": "Lot runs created ahead of the scheduler per DAG of a plan, beyond its parallelism; "
        "topped up in a batch once at most half of them are left queued.",
        "type": "integer",
        "default": "16",
        "example": "32",
        "version_added": "0.2.0",
    },
    "concurrent_reads": {
        "description": "GET requests of the provider's API one api-server process handles at once; "
        "more wait their turn, so that pages polling plans never starve the execution API calls "
        "of running tasks.",
        "type": "integer",
        "default": "2",
        "example": "4",
        "version_added": "0.3.0",
    },
    "id_map": {
        "description": "Path of the YAML id map the compat endpoints (/backfill/compat/...) read: the "
        "cloud schedulers' numeric DAG, task, project and version ids as Airflow's. Read again when "
        "the file changes. Without it ids are read verbatim (dag_id, dag_id.task_id).",
        "type": "string",
        "default": "",
        "example": "/opt/airflow/config/backfill-id-map.yaml",
        "version_added": "0.3.0",
    },
}


def _get(key: str) -> str:
    from airflow.configuration import conf

    return str(conf.get(SECTION, key, fallback=OPTIONS[key]["default"]) or "")


def _number(key: str) -> int:
    """An integer option; a value that is not one is the default (``airflow config lint`` says why)."""
    text = _get(key).strip()
    return int(text) if text.lstrip("-").isdigit() else int(OPTIONS[key]["default"])


def max_lots_per_plan() -> int:
    """``max_lots_per_plan``, or the smaller ``max_lots`` that a deployment set before 0.3.0."""
    from airflow.configuration import conf

    limit = max(1, _number("max_lots_per_plan"))
    legacy = str(conf.get(SECTION, "max_lots", fallback="") or "").strip()
    return min(limit, max(1, int(legacy))) if legacy.isdigit() else limit


def max_active_plans_per_user() -> int:
    return max(0, _number("max_active_plans_per_user"))


def max_active_lots() -> int:
    return max(0, _number("max_active_lots"))


def max_preview_lots() -> int:
    return max(1, int(_get("max_preview_lots") or OPTIONS["max_preview_lots"]["default"]))


def notification_targets() -> dict[str, dict[str, Any]]:
    """``[backfill] notification_targets``; a value that is not such JSON is an error saying so."""
    text = _get("notification_targets").strip()
    if not text:
        return {}
    try:
        found = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"[backfill] notification_targets is not JSON: {exc}") from None
    if not isinstance(found, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("notifier"), str) for v in found.values()
    ):
        raise ValueError(
            '[backfill] notification_targets must map names to {"notifier": "<class path>", ...}'
        )
    return found


def notification_template() -> str:
    return _get("notification_template")


def notification_subject() -> str:
    return _get("notification_subject")


def _listed(key: str) -> frozenset[str]:
    return frozenset(p.strip() for p in _get(key).split(",") if p.strip())


def allowed_pools() -> frozenset[str]:
    return _listed("allowed_pools")


def allowed_queues() -> frozenset[str]:
    return _listed("allowed_queues")


def signing_private_key() -> str:
    return _get("signing_private_key").strip()


def signing_public_keys() -> str:
    return _get("signing_public_keys").strip()


def api_url() -> str:
    """Where the driver reaches the api-server from the triggerer."""
    from airflow.configuration import conf

    explicit = _get("api_url")
    if explicit:
        return explicit.rstrip("/")
    execution = str(conf.get("core", "execution_api_server_url", fallback="") or "")
    if execution:
        return execution.rstrip("/").removesuffix("/execution")
    return (str(conf.get("api", "base_url", fallback="") or "") or "http://localhost:8080").rstrip("/")


def driver_poll_interval() -> float:
    return max(0.2, float(_get("driver_poll_interval") or OPTIONS["driver_poll_interval"]["default"]))


def lookahead() -> int:
    return max(0, int(_get("lookahead") or OPTIONS["lookahead"]["default"]))


def concurrent_reads() -> int:
    return max(1, int(_get("concurrent_reads") or OPTIONS["concurrent_reads"]["default"]))


def id_map_path() -> str:
    return _get("id_map")


def unmapped_resource_groups() -> str | None:
    """``refuse`` or ``ignore`` when the deployment says, else None (the id map's own choice)."""
    found = _get("unmapped_resource_groups").strip().lower()
    return found if found in ("refuse", "ignore") else None
