"""The Celery / several-schedulers lane: one Airflow on CeleryExecutor (two Celery workers, two
schedulers, two triggerers, Redis, PostgreSQL) for the module. Opt-in: ``BACKFILL_TEST_CELERY=1`` and
``BACKFILL_TEST_POSTGRES_URL``; ``.ci/run`` runs it after the default test command."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.integration.harness import Airflow, running_airflow

DAG_IDS = ("ledger_hourly", "ledger_daily", "ledger_kill", "backfill_plan_controller")


def own_database(url: str, name: str = "airflow_celery") -> str:
    """A database of its own in the same PostgreSQL (the default lane resets ``airflow_test``)."""
    import sqlalchemy

    base, _, _ = url.rpartition("/")
    engine = sqlalchemy.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.execute(
            sqlalchemy.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        )
        if exists.first() is None:
            connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def celery_airflow() -> Iterator[Airflow]:
    url = os.environ.get("BACKFILL_TEST_POSTGRES_URL")
    if not url:
        pytest.fail(
            "the Celery lane needs PostgreSQL: set BACKFILL_TEST_POSTGRES_URL (.ci/postgres.sh prints one)"
        )
    with running_airflow(own_database(url), celery=True, triggerers=2) as running:
        running.wait_for_dags(*DAG_IDS)
        yield running
