"""The ``[backfill]`` configuration section: limits and allow-lists set by the deployment.

Every option is declared with its default and description under ``config`` in get_provider_info,
so ``airflow config list`` shows them; read them here and nowhere else.
"""

from __future__ import annotations

import json
from typing import Any

SECTION = "backfill"

OPTIONS: dict[str, dict[str, Any]] = {
    "max_lots": {
        "description": "Most lots one plan may have (all its DAGs together). Larger plans are refused "
        "at preview and create with a message naming the limit.",
        "type": "integer",
        "default": "100000",
        "example": "20000",
        "version_added": "0.2.0",
    },
    "max_preview_lots": {
        "description": "Most lots a preview lists (it always gives the total).",
        "type": "integer",
        "default": "1000",
        "example": "5000",
        "version_added": "0.2.0",
    },
    "allowed_notifiers": {
        "description": "Comma-separated import paths of notifier classes plans may use in `notify`, "
        "besides the notifiers that installed providers declare. Each must be a subclass of "
        "Airflow's BaseNotifier. Nothing outside these two lists is ever imported.",
        "type": "string",
        "default": "",
        "example": "my_company.notifiers.TeamsNotifier",
        "version_added": "0.2.0",
    },
    "notification_targets": {
        "description": "Notification targets plans may name in notify, as JSON: "
        '{"<name>": {"notifier": "<class path>", "kwargs": {...}, "plan_arguments": ["<arg>", ...]}}. '
        "kwargs are fixed by the deployment (recipients, connection); plan authors may set only the "
        "plan_arguments (message text), rendered with the plan's own fields. Set it on the "
        "api-server and every worker.",
        "type": "string",
        "default": "",
        "example": '{"data-team": {"notifier": "airflow.providers.smtp.notifications.smtp.SmtpNotifier", '
        '"kwargs": {"to": "data@example.com"}, "plan_arguments": ["subject", "html_content"]}}',
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


def max_lots() -> int:
    return max(1, int(_get("max_lots") or OPTIONS["max_lots"]["default"]))


def max_preview_lots() -> int:
    return max(1, int(_get("max_preview_lots") or OPTIONS["max_preview_lots"]["default"]))


def allowed_notifiers() -> frozenset[str]:
    return frozenset(p.strip() for p in _get("allowed_notifiers").split(",") if p.strip())


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
