"""The Airflow plugin: the REST API (and, later, the UI page) mounted by the api-server."""

from __future__ import annotations

import functools
from typing import Any

from airflow.plugins_manager import AirflowPlugin


@functools.cache
def _app() -> Any:
    from airflow_backfill_provider.plugin.app import create_app

    return create_app()


class _FastApiApps:
    """Imports the FastAPI app only when the api-server asks for it.

    Every Airflow process loads plugins (deserialising a DAG does); importing the app pulls in the
    api-server's own modules, which is slow and prints warnings into CLI output.
    """

    def __get__(self, obj: Any, owner: Any) -> list[dict[str, Any]]:
        return [{"app": _app(), "url_prefix": "/backfill", "name": "Backfill plans"}]


class BackfillPlugin(AirflowPlugin):
    name = "backfill_plans"
    fastapi_apps = _FastApiApps()
