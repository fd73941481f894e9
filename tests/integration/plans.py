"""Helpers for integration tests: submit plans over REST, wait for them, read the ledger and Airflow."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from tests.integration.harness import Airflow

API = "/backfill/api/v1"
FINAL = ("success", "failed", "cancelled")


def submit(af: Airflow, plan: dict[str, Any], user: str = "admin") -> dict[str, Any]:
    response = af.client(user).post(f"{af.url}{API}/plans", json=plan, timeout=120)
    assert response.status_code in (200, 201), response.text
    return response.json()["plan"]


def not_busy(send: Callable[[], requests.Response]) -> requests.Response:
    """The answer once the service is not busy: its 503 (code ``unavailable``: SQLite's write lock
    taken, or every connection in use; ``Retry-After``) is the documented "ask again", asked again
    as the hook does. Any other answer is returned at once."""
    for _ in range(5):
        response = send()
        if response.status_code != 503 or response.json()["error"]["code"] != "unavailable":
            break
        time.sleep(float(response.headers.get("Retry-After", "5")))
    return response


def get(af: Airflow, path: str, user: str = "admin", **params: Any) -> Any:
    response = not_busy(lambda: af.client(user).get(f"{af.url}{API}{path}", params=params, timeout=60))
    assert response.status_code == 200, response.text
    return response.json()


def wait_for(af: Airflow, name: str, states: tuple[str, ...] = FINAL, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        plan = get(af, f"/plans/{name}")
        if plan["state"] in states:
            return plan
        time.sleep(0.5)
    raise TimeoutError(
        f"plan {name} still {plan['state']} after {timeout}s: {plan['counts']}\n"
        f"{af.log_tail('scheduler', 30)}"
    )


def lots(af: Airflow, name: str) -> list[dict[str, Any]]:
    return get(af, f"/plans/{name}/lots", limit=10_000)["lots"]


def ledger(af: Airflow, name: str) -> list[dict[str, Any]]:
    """What the plan's own runs did (its run ids start with ``backfill_plan__<name>__``)."""
    prefix = f"backfill_plan__{name}__"
    return [e for e in af.ledger_entries() if e["run_id"].startswith(prefix)]


def notifications(af: Airflow, name: str, timeout: float = 60) -> list[dict[str, Any]]:
    """The notifier calls recorded for plan ``name``: a plan's notify run starts once the plan has
    ended, so wait for the first call, then 3 s more for any call that should not be there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not any(e.get("plan") == name for e in af.ledger_entries()):
        time.sleep(1)
    time.sleep(3)
    return [e for e in af.ledger_entries() if e.get("plan") == name]


def task_instances(af: Airflow, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
    found = af.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
    return {ti["task_id"]: ti for ti in found["task_instances"]}


def wait_lot(af: Airflow, name: str, index: int, state: str, timeout: float = 60) -> dict[str, Any]:
    """The lot once it is in ``state`` (or as it is when ``timeout`` runs out)."""
    deadline = time.monotonic() + timeout
    lot = get(af, f"/plans/{name}/lots/{index}")
    while lot["state"] != state and time.monotonic() < deadline:
        time.sleep(1)
        lot = get(af, f"/plans/{name}/lots/{index}")
    return dict(lot)


def wait_running(af: Airflow, name: str, timeout: float = 120) -> dict[str, Any]:
    """The plan once one of its lots is running (or as it is when ``timeout`` runs out)."""
    deadline = time.monotonic() + timeout
    plan = get(af, f"/plans/{name}")
    while plan["counts"]["running"] < 1 and time.monotonic() < deadline:
        time.sleep(0.3)
        plan = get(af, f"/plans/{name}")
    return dict(plan)


def wait_run(af: Airflow, dag_id: str, run_id: str, timeout: float = 120) -> str:
    """The state of an Airflow run once it has ended (or as it is when ``timeout`` runs out)."""
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        state = af.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"]
        if state in ("success", "failed"):
            break
        time.sleep(1)
    return str(state)
