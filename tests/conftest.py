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
    "dms_flow",
    "dw_xm",
    "dw_sales",
    "dw_sales_report",
    "wedata_orders",
    "aloudata_metrics",
    "wedata_tokyo",
)


@pytest.fixture(scope="session", params=BACKENDS)
def airflow(request: pytest.FixtureRequest) -> Iterator[Airflow]:
    url = os.environ["BACKFILL_TEST_POSTGRES_URL"] if request.param == "postgres" else None
    with running_airflow(url) as running:
        running.wait_for_dags(*TEST_DAG_IDS)
        yield running


# The Celery lane (tests/celery) starts its own Airflow on CeleryExecutor: opt-in.
collect_ignore_glob = [] if os.environ.get("BACKFILL_TEST_CELERY") else ["celery/*"]


def backend_of(nodeid: str) -> str | None:
    """The Airflow backend a test runs on, from its id (``…[sqlite]``, ``…[postgres-dataworks]``)."""
    found = re.search(r"\[(?:.*-)?(sqlite|postgres)(?:-.*)?\]$", nodeid)
    if found:
        return found.group(1)
    # the standalone demo goes with PostgreSQL's tests, whose worker ends about 3 minutes before
    # SQLite's; run where a worker is free, with both Airflows busy, it and the DB manager's tests
    # took a third longer and slowed everything beside them (25:54 against 19:20)
    return "postgres" if "test_readme_demo" in nodeid else None


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under pytest-xdist (README's ``-n 2``), each backend's tests go to one worker, which starts
    that backend's Airflow only, and the two Airflows run side by side; unit tests go to whichever
    worker is done first."""
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
