"""What Airflow's ProvidersManager reads about this provider (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-backfill-provider",
        "name": "Backfill plans",
        "description": "Backfill plans: date ranges, lots, order, parallelism, task selection and dry-run, "
        "turned into real DAG runs.",
        "versions": ["0.1.0"],
    }
