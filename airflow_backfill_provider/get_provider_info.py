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
        "integrations": [
            {
                "integration-name": "Backfill plans",
                "external-doc-url": "https://pypi.org/project/airflow-backfill-provider/",
                "tags": ["service"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Backfill plans",
                "python-modules": ["airflow_backfill_provider.engine.trigger"],
            }
        ],
        "plugins": [
            {"name": "backfill_plans", "plugin-class": "airflow_backfill_provider.plugin.BackfillPlugin"}
        ],
        "cli": ["airflow_backfill_provider.cli.definition.get_cli_commands"],
    }
