"""One real Airflow per database backend, shared by the integration and hostile tests of a session.

SQLite always; PostgreSQL too when BACKFILL_TEST_POSTGRES_URL is set (``.ci/run`` installs and
starts a PostgreSQL server on loopback and sets it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = str(item.fspath)
        # With pytest-xdist (-n 2 --dist loadgroup, README's command) each backend's tests go to one
        # worker, which starts that backend's Airflow only; the standalone demo waits with SQLite's.
        backend = getattr(getattr(item, "callspec", None), "params", {}).get("airflow")
        if backend or "test_readme_demo" in path:
            item.add_marker(pytest.mark.xdist_group(backend or "sqlite"))
        if any(f"tests/{kind}" in path for kind in ("integration", "hostile", "ui")):
            item.add_marker(pytest.mark.integration)
        if "tests/ui" in path:
            item.add_marker(pytest.mark.ui)
