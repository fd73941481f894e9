"""Whether this deployment can run backfill plans (``airflow backfill-plans doctor``): each check
says what it found and, when it fails, the fix.

Every check stands alone: one that cannot even look (no database, say) fails with what it met, and
the others still answer. ``required`` checks fail the command; the controller DAG is needed only
for notifications.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib.metadata import entry_points
from typing import Any

import requests
from airflow.jobs.job import most_recent_job
from airflow.plugins_manager import AirflowPlugin
from sqlalchemy.orm import Session

from airflow_backfill_provider import settings, signing
from airflow_backfill_provider.reserved import CONTROLLER_DAG_ID
from airflow_backfill_provider.service.dags import paused_dag_ids, serialized_dag
from airflow_backfill_provider.service.db_manager import BackfillDBManager

PLUGIN_NAME = "backfill_plans"
KEYS_HINT = (
    "`python -m airflow_backfill_provider.signing` prints a new pair; give them as environment variables "
    "or through a secrets backend, never in the DAGs folder"
)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    found: str
    fix: str = ""
    required: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _plugin(session: Session) -> Check:
    """The plugin is installed where Airflow finds it: its ``airflow.plugins`` entry point loads."""
    found = [e for e in entry_points(group="airflow.plugins") if e.name == PLUGIN_NAME]
    fix = (
        "install airflow-backfill-provider in this environment (a requirements line on a managed "
        "Airflow), then restart the api-server"
    )
    if not found:
        return Check("plugin", False, f"no '{PLUGIN_NAME}' entry point in group airflow.plugins", fix)
    plugin = found[0].load()
    if not (isinstance(plugin, type) and issubclass(plugin, AirflowPlugin)):
        return Check("plugin", False, f"entry point '{PLUGIN_NAME}' is not an AirflowPlugin", fix)
    return Check("plugin", True, f"Airflow finds the plugin '{plugin.name}' ({found[0].value})")


def _api(session: Session) -> Check:
    url = f"{settings.api_url()}/backfill/openapi.json"
    fix = (
        "install airflow-backfill-provider where the api-server runs and restart it; if the api-server "
        "is elsewhere, set [backfill] api_url (AIRFLOW__BACKFILL__API_URL) to its address"
    )
    try:
        answer = requests.get(url, timeout=5)
    except requests.RequestException as exc:
        return Check("api-server", False, f"{url}: {type(exc).__name__}", fix)
    if answer.status_code != 200 or "/api/v1/plans" not in (answer.json().get("paths") or {}):
        return Check("api-server", False, f"{url} answered {answer.status_code}", fix)
    return Check("api-server", True, f"the api-server mounts the plugin's API ({url})")


def _tables(session: Session) -> Check:
    manager = BackfillDBManager(session)
    heads = set(manager.get_script_object().get_heads())
    current = manager.get_current_revision()
    if current in heads:
        return Check("tables", True, f"the provider's tables are at head ({current})")
    return Check(
        "tables",
        False,
        f"the provider's tables are at {current or 'no revision'}, head is {', '.join(sorted(heads))}",
        "run `airflow db migrate` (it migrates the provider's tables after Airflow's)",
    )


def _private_key(session: Session) -> Check:
    try:
        signing.private_key()
    except signing.SigningUnavailable as exc:
        return Check(
            "private key",
            False,
            str(exc),
            f"set [backfill] signing_private_key where the api-server and the CLI run; {KEYS_HINT}",
        )
    return Check("private key", True, "[backfill] signing_private_key is set and readable")


def _public_keys(session: Session) -> Check:
    fix = f"set [backfill] signing_public_keys on every worker; {KEYS_HINT}"
    try:
        keys = signing.public_keys()
    except signing.SigningUnavailable as exc:
        return Check("public keys", False, str(exc), fix)
    if not keys:
        return Check("public keys", False, "no public key: workers cannot verify what plans write", fix)
    return Check("public keys", True, f"{len(keys)} public key{'s' if len(keys) != 1 else ''} readable")


def _triggerer(session: Session) -> Check:
    job = most_recent_job("TriggererJob", session=session)
    if job is not None and job.is_alive():
        return Check("triggerer", True, f"a triggerer is alive on {job.hostname}")
    seen = f"its last heartbeat was {job.latest_heartbeat:%Y-%m-%d %H:%M:%S}" if job else "none ever ran"
    return Check(
        "triggerer",
        False,
        f"no triggerer is alive ({seen})",
        "start `airflow triggerer`: the plan driver runs in it",
    )


def _controller(session: Session) -> Check:
    line = "from airflow_backfill_provider.engine.controller import controller_dag  # noqa: F401"
    if serialized_dag(CONTROLLER_DAG_ID, session) is None:
        return Check(
            "controller DAG",
            False,
            f"'{CONTROLLER_DAG_ID}' is not parsed: plans' notifications are not sent",
            f"put `{line}` in a file of the DAGs folder",
            required=False,
        )
    if paused_dag_ids([CONTROLLER_DAG_ID], session):
        return Check(
            "controller DAG",
            False,
            f"'{CONTROLLER_DAG_ID}' is paused: plans' notifications wait",
            f"unpause it: `airflow dags unpause {CONTROLLER_DAG_ID}`",
            required=False,
        )
    return Check("controller DAG", True, f"'{CONTROLLER_DAG_ID}' is parsed and unpaused", required=False)


CHECKS: tuple[tuple[str, Callable[[Session], Check], bool], ...] = (
    # (name, check, required)
    ("plugin", _plugin, True),
    ("api-server", _api, True),
    ("tables", _tables, True),
    ("private key", _private_key, True),
    ("public keys", _public_keys, True),
    ("triggerer", _triggerer, True),
    ("controller DAG", _controller, False),
)


def diagnose(session: Session) -> list[Check]:
    """Every check, in order; one that cannot look fails with what it met, and the rest still answer."""
    found = []
    for name, check, required in CHECKS:
        try:
            found.append(check(session))
        except Exception as exc:
            session.rollback()
            found.append(
                Check(
                    name,
                    False,
                    f"could not look: {type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:300]}",
                    "make the database reachable and run `airflow db migrate`, then run doctor again",
                    required,
                )
            )
    return found
