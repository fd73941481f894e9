"""One real Airflow per database backend, shared by the integration and hostile tests of a session.

SQLite always; PostgreSQL too when BACKFILL_TEST_POSTGRES_URL is set (``.ci/run`` installs and
starts a PostgreSQL server on loopback and sets it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.harness import Airflow, running_airflow

BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("BACKFILL_TEST_POSTGRES_URL") else [])
TEST_DAG_IDS = (
    "ledger_guarded",
    "ledger_mapped",
    "ledger_past",
    "ledger_long",
    "backfill_plan_controller",
    "ledger_daily",
    "ledger_order",
    "ledger_fail",
    "ledger_selfdep",
    "ledger_hourly",
    "ledger_overlap",
    "ledger_paused",
    "ledger_kill",
    "ledger_reprocess",
    "ledger_params",
    "ledger_flaky",
    "ledger_producer",
    "ledger_consumer",
    "ledger_author",
    "ledger_author_timeout",
    "dms_flow",
    "dms_nightly",
    "dw_xm",
    "dw_sales",
    "dw_sales_report",
    "wedata_orders",
    "aloudata_metrics",
    "wedata_tokyo",
)


TEST_SETTINGS = {
    # a deferred task whose trigger timed out is failed within 3 s, not 15 s (the sensor's timeout)
    "AIRFLOW__SCHEDULER__TRIGGER_TIMEOUT_CHECK_INTERVAL": "3",
}
"""settings of the tests' Airflows only (the benchmarks start theirs without them)"""


RUNNING: dict[str, Airflow] = {}
"""backend -> its running Airflow, until its last test is done (``pytest_runtest_teardown``)"""


@pytest.fixture(scope="session", params=BACKENDS)
def airflow(request: pytest.FixtureRequest) -> Iterator[Airflow]:
    url = os.environ["BACKFILL_TEST_POSTGRES_URL"] if request.param == "postgres" else None
    with running_airflow(url, settings=TEST_SETTINGS) as running:
        running.wait_for_dags(*TEST_DAG_IDS)
        RUNNING[request.param] = running
        yield running
        RUNNING.pop(request.param, None)


def _airflow_backend(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    uses = "airflow" in getattr(item, "fixturenames", ()) and callspec is not None
    return callspec.params.get("airflow") if uses else None


LAST_USE: dict[str, str] = {}
"""backend -> the id of the last test, in the session's order, that uses its Airflow"""


def pytest_collection_finish(session: pytest.Session) -> None:
    for item in session.items:
        if backend := _airflow_backend(item):
            LAST_USE[backend] = item.nodeid


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """A backend's Airflow stops as soon as the last test that uses it is done, not at the end of the
    session: the tests that run after it on that worker (the demo's Airflow, unit tests) and the other
    worker's Airflow no longer share two cores with an idle Airflow."""
    yield
    backend = _airflow_backend(item)
    if backend in RUNNING and LAST_USE.get(backend) == item.nodeid:
        RUNNING.pop(backend).stop()


# The Celery lane (tests/celery) starts its own Airflow on CeleryExecutor: opt-in.
collect_ignore_glob = [] if os.environ.get("BACKFILL_TEST_CELERY") else ["celery/*"]


def backend_of(nodeid: str) -> str | None:
    """The Airflow backend a test runs on, from its id (``…[sqlite]``, ``…[postgres-dataworks]``)."""
    found = re.search(r"\[(?:.*-)?(sqlite|postgres)(?:-.*)?\]$", nodeid)
    return found.group(1) if found else None


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under pytest-xdist (README's ``-n 2``), each backend's tests go to one worker, which starts
    that backend's Airflow only, and the two Airflows run side by side; the standalone demo and the
    unit tests go to whichever worker is done first, once its Airflow has stopped."""
    from xdist.scheduler import LoadScopeScheduling

    class ByBackend(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return backend_of(nodeid) or nodeid

    return ByBackend(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = str(item.fspath)
        if any(f"tests/{kind}" in path for kind in ("integration", "hostile", "ui")):
            item.add_marker(pytest.mark.integration)
        if "tests/ui" in path:
            item.add_marker(pytest.mark.ui)
