"""What Airflow's ProvidersManager reads about this provider (entry point ``apache_airflow_provider``).

Everything the package ships is listed, as Airflow's own providers do: hooks and their connection
type, operators, sensors, triggers, the plugin (REST API), the CLI group, the DB manager of the
provider's tables and the ``[backfill]`` configuration section.
"""

from __future__ import annotations

from typing import Any

from airflow_backfill_provider import __version__
from airflow_backfill_provider.settings import OPTIONS, SECTION

INTEGRATION = "Backfill plans"


def _modules(*names: str) -> list[dict[str, Any]]:
    return [{"integration-name": INTEGRATION, "python-modules": list(names)}]


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-backfill-provider",
        "name": INTEGRATION,
        "description": "Backfill plans: date ranges, lots, order, parallelism, task selection and dry-run, "
        "turned into real DAG runs.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": "https://pypi.org/project/airflow-backfill-provider/",
                "tags": ["service"],
            }
        ],
        "hooks": _modules("airflow_backfill_provider.hooks.backfill"),
        "connection-types": [
            {
                "connection-type": "backfill",
                "hook-class-name": "airflow_backfill_provider.hooks.backfill.BackfillHook",
                "hook-name": "Backfill plans",
            }
        ],
        "operators": _modules("airflow_backfill_provider.operators.backfill"),
        "extra-links": ["airflow_backfill_provider.operators.backfill.BackfillPlanLink"],
        "sensors": _modules("airflow_backfill_provider.sensors.backfill"),
        "triggers": _modules(
            "airflow_backfill_provider.triggers.backfill", "airflow_backfill_provider.engine.trigger"
        ),
        "plugins": [
            {"name": "backfill_plans", "plugin-class": "airflow_backfill_provider.plugin.BackfillPlugin"}
        ],
        "cli": ["airflow_backfill_provider.cli.definition.get_cli_commands"],
        "db-managers": ["airflow_backfill_provider.service.db_manager.BackfillDBManager"],
        "config": {
            SECTION: {
                "description": "Limits and allow-lists of backfill plans, set by the deployment.",
                "options": OPTIONS,
            }
        },
    }
